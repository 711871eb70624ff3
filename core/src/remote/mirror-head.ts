import { fileURLToPath } from 'node:url'
import { isAbsolute } from 'node:path'
import { quoteArg } from '../plan/command-text.js'
import { tryGit } from '../twin/git.js'
import { runGitWithToken } from './git-transport.js'
import { MIRROR_BRANCH, REMOTE_NAME } from './remote-settings.js'

/** What a first push says when a clone of the mirror would check out nothing (MIRROR_HEAD_UNBORN). */
export interface MirrorHeadWarning {
  code: 'MIRROR_HEAD_UNBORN'
  message: string
  nextStep: string
}

/**
 * The mirror's HEAD after the first push to it (session 22). A bare repository made with
 * `git init --bare` where git's default branch is still `master` keeps its HEAD at
 * refs/heads/master, while the twin pushes `main`: a `git clone` of the mirror then checks out
 * nothing ("remote HEAD refers to nonexistent ref"). Git's protocols cannot move another
 * repository's HEAD, so: a mirror on a path of this machine (`/srv/twin.git`, `file://…`) gets its
 * HEAD set to the twin's branch here (`git symbolic-ref`), as its owner would; any other says
 * so once, with the command to run where it lives. A HEAD that names a branch the mirror has is
 * its owner's choice and left alone. Asked only after a push that created the mirror's branch:
 * one `git ls-remote` more for that push, none for the ones after it.
 */
export async function settleMirrorHead(twinDir: string, url: string, token: string | undefined): Promise<MirrorHeadWarning | undefined> {
  // git lists HEAD only when it names a commit (a branch the mirror has, or a detached one): an
  // unborn HEAD is not listed at all (git 2.39's ls-remote asks nothing of "unborn").
  const listed = await runGitWithToken(twinDir, ['ls-remote', '--symref', REMOTE_NAME, 'HEAD'], token)
  if (!listed.ok || /\tHEAD$/m.test(listed.output)) return undefined
  const wanted = `refs/heads/${MIRROR_BRANCH}`
  const local = localPath(url)
  if (local !== undefined) {
    // Only an unborn HEAD is moved: one that names a branch (`git symbolic-ref` answers) the mirror lacks.
    const named = await tryGit(local, ['symbolic-ref', '--quiet', 'HEAD'])
    if (named.ok && /^refs\/heads\//.test(named.output.trim()) && (await tryGit(local, ['symbolic-ref', 'HEAD', wanted])).ok) return undefined
  }
  return {
    code: 'MIRROR_HEAD_UNBORN',
    message: `The mirror ${url} has no default branch a clone checks out: its HEAD names a branch it does not have (a \`git init --bare\` where git's default branch is master makes it so), and the twin is its ${wanted}; a \`git clone\` of it checks out nothing`,
    nextStep: `Where the mirror lives, run \`git symbolic-ref HEAD ${wanted}\` in it (on a hosting service, make ${MIRROR_BRANCH} its default branch); until then clone it with \`git clone -b ${MIRROR_BRANCH} ${quoteArg(url)}\`.`,
  }
}

/** The folder of a mirror on this machine's file system, or undefined for a network one. */
function localPath(url: string): string | undefined {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url)
    } catch {
      return undefined
    }
  }
  return isAbsolute(url) ? url : undefined
}
