import { TwinSyncError, isFsckJudgedName } from '@twinsync/sdk/light'
import type { MirrorRefusal } from './mirror-refusal.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runGitBytes, tryGit } from '../twin/git.js'
import { basicCredential, redact } from './credentials.js'
import { refuseInsecureTokenUrl } from './remote-url.js'
import { REMOTE_NAME } from './remote-settings.js'

export interface GitRunResult {
  ok: boolean
  /** git's output (standard output and error), with the token redacted. */
  output: string
}

/**
 * Runs git against the mirror, through the one git module. The token travels as an HTTP header
 * set through git's environment-only configuration (GIT_CONFIG_COUNT…): never in the URL,
 * .git/config or the process arguments, and the environment of a process is readable only by
 * its owner. A missing git or a damaged twin throws its coded error; a refusal by the mirror
 * comes back as git's words for mirrorError.
 */
export async function runGitWithToken(dir: string, args: string[], token: string | undefined, idleTimeoutMs = 120_000): Promise<GitRunResult> {
  if (token !== undefined) await refuseInsecureMirror(dir)
  const env: Record<string, string | undefined> = {
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_HTTP_LOW_SPEED_LIMIT: '1000',
    GIT_HTTP_LOW_SPEED_TIME: '30',
    GIT_CONFIG_COUNT: '0',
    GITHUB_TOKEN: undefined,
    GH_TOKEN: undefined,
  }
  if (token !== undefined) {
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basicCredential(token)}` })
  }
  return tryGit(dir, args, { env, idleTimeoutMs, redact: (text) => redact(text, token) })
}

/**
 * The URLs git would really use for the mirror (after url.*.insteadOf, for fetch and push):
 * none may be plain http:// to another machine when a token goes with the request.
 */
async function refuseInsecureMirror(dir: string): Promise<void> {
  const urls = await Promise.all(
    [['--all'], ['--push', '--all']].map(async (flags) => {
      const r = await tryGit(dir, ['remote', 'get-url', ...flags, REMOTE_NAME])
      return r.ok ? r.output.split('\n').filter(Boolean) : []
    }),
  )
  for (const url of urls.flat()) refuseInsecureTokenUrl(url)
}

/** What a failed push's words are read with besides git's output (pushError). */
export interface PushContext {
  /** The mirror's commit the last pull refused (mirror-refusal.ts): the branch a rejected push met. */
  refused?: MirrorRefusal
  /**
   * The objects the mirror's check (fsck) named, with the twin path each is at in this twin's
   * history when it is a file there; `ownFsck`, for a `.gitmodules` or `.gitattributes`: whether
   * this machine's git refuses it too (ownFsckRefuses), which alone makes `forget` the next step.
   */
  fsckObjects?: Array<{ id: string; check: string; path?: string; ownFsck?: boolean }>
}

/**
 * The mirror's own check of what it is sent refused it: git's receive-pack with
 * receive.fsckObjects (GitHub's behaviour) says "remote: error: object <id>: <check>: …",
 * "fsck error in pack objects" / "in packed object" and "remote unpack failed", and the ref
 * "[remote rejected] (unpacker error)" (GitHub: "(failed)"). Session 46: before, this was said as
 * REMOTE_REJECTED "it has snapshots this twin does not", with `pull` as the next step, which
 * changes nothing: every later push holds the same object.
 */
const FSCK_REFUSED = /fsck error|remote: error: object [0-9a-f]{40,64}: [A-Za-z]+:/
/**
 * git's own line that the mirror did not take the pack (`error: remote unpack failed: …`, from
 * receive-pack's status report): never a `remote:` line, which is all a hook can print. Session
 * 47 (M3 of session 46's review): before, the fsck words alone made REMOTE_FSCK_REFUSED, and a
 * mirror's pre-receive hook that printed them chose `forget` of a file of this twin's history and
 * a forced push as the next step. The words still name the object; the step is git's to choose
 * (this line, then this machine's own fsck of that object: ownFsckRefuses).
 */
const UNPACK_FAILED_BY_GIT = /^error: remote unpack failed: /m
/** receive-pack found the pushed objects not connected: the mirror lacks objects its own branch needs. */
const MISSING_OBJECTS = /\(missing necessary objects\)/
/** The mirror's side failed to take the pack for another reason (its disk, its unpacker). */
const UNPACK_FAILED = /remote unpack failed|\(unpacker error\)|\(n\/a \(unpacker error\)\)/
/** A ref the mirror's policy refused (a hook, a protected branch, GitHub's rules): its own words follow. */
const REMOTE_REJECTED = /\[remote rejected\]/

/**
 * The objects a mirror's fsck named in a refused push (`remote: error: object <id>: <check>: …`),
 * each with its path in this twin's branch or tags when it is a file or folder there (`git
 * rev-list --objects`, read once, on the failure only).
 */
export async function fsckRefusedObjects(dir: string, output: string, known: string | null): Promise<PushContext['fsckObjects']> {
  if (!UNPACK_FAILED_BY_GIT.test(output)) return undefined
  const named = new Map<string, string>()
  for (const m of output.matchAll(/remote: error: object ([0-9a-f]{40,64}): ([A-Za-z]+):/g)) if (!named.has(m[1] as string)) named.set(m[1] as string, m[2] as string)
  if (named.size === 0) return FSCK_REFUSED.test(output) ? [] : undefined
  const paths = new Map<string, string>()
  const listed = await tryGit(dir, ['rev-list', '--objects', '--branches', '--tags', ...(known === null ? [] : ['--not', known])])
  for (const line of listed.ok ? listed.output.split('\n') : []) {
    const space = line.indexOf(' ')
    const id = line.slice(0, space)
    if (space > 0 && named.has(id) && !paths.has(id)) paths.set(id, line.slice(space + 1))
  }
  return Promise.all(
    [...named].map(async ([id, check]) => {
      const path = paths.get(id)
      if (path === undefined) return { id, check }
      const name = path.split('/').pop() as string
      return { id, check, path, ...(isFsckJudgedName(name) ? { ownFsck: await ownFsckRefuses(dir, id, name) } : {}) }
    }),
  )
}

/**
 * Whether this machine's git refuses the blob `id` as a file named `name` (a `.gitmodules` or
 * `.gitattributes`, whose content fsck judges): `git fsck` of a scratch repository that holds
 * only that blob and a folder naming it so, its exit code the answer. Run only on a push the
 * mirror refused (five git processes). A blob this git takes is not named for `forget`, whatever
 * the mirror said of it; one it cannot look at (gone, no room for the scratch) neither.
 */
async function ownFsckRefuses(dir: string, id: string, name: string): Promise<boolean> {
  const scratch = await mkdtemp(join(tmpdir(), 'twinsync-fsck-'))
  try {
    await runGitBytes(scratch, ['init', '--quiet', '--bare'])
    await runGitBytes(scratch, ['hash-object', '-w', '--stdin'], { input: await runGitBytes(dir, ['cat-file', 'blob', id]) })
    await runGitBytes(scratch, ['mktree'], { input: `100644 blob ${id}\t${name}\n` })
    return await runGitBytes(scratch, ['fsck', '--no-dangling']).then(
      () => false,
      () => true,
    )
  } catch {
    return false
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** A failed git operation with the mirror as an error a person can act on; `line`: this run's `twinsync ARGS` (RunTarget). */
export function mirrorError(result: GitRunResult, what: string, url: string, line: (args: readonly string[]) => string, context: PushContext = {}): TwinSyncError {
  // With --porcelain, git reports rejected refs on standard output; both are in the output.
  // A status code counts only as git words it ("The requested URL returned error: 403"), never a
  // number in a ref name, a count or a port.
  const text = result.output.trim()
  const detail = text.split('\n').filter((l) => l.trim().length > 0).slice(-3).join(' / ')
  if (/\b(?:error|HTTP):? 40[13]\b|Authentication failed|could not read Username|Invalid username or password|terminal prompts disabled/i.test(text)) {
    return new TwinSyncError('REMOTE_AUTH', `The mirror ${url} refused the token (${what}): ${detail}`, {
      nextStep: `Check the token and its access to the repository: set GITHUB_TOKEN, or \`${line(['github', 'link', 'OWNER/REPO', '--token-stdin'])}\` / \`${line(['remote', 'set', 'URL', '--token-stdin'])}\`.`,
      details: { url, git: detail },
    })
  }
  if (/Could not resolve host|Failed to connect|Connection refused|Connection timed out|Couldn't connect|unable to access|Network is unreachable|No route to host|timed out|does not appear to be a git repository|timeout reached/i.test(text)) {
    return new TwinSyncError('REMOTE_UNREACHABLE', `The mirror ${url} could not be reached (${what}): ${detail}`, {
      nextStep: `Check the network and the remote; the snapshots stay here and \`${line(['push', '--retry'])}\` sends them later.`,
      details: { url, git: detail },
    })
  }
  const kept = 'Nothing here was lost: the snapshots stay in the twin'
  if (context.fsckObjects !== undefined || (UNPACK_FAILED_BY_GIT.test(text) && FSCK_REFUSED.test(text))) return fsckRefused(text, url, line, context.fsckObjects ?? [], kept)
  if (MISSING_OBJECTS.test(text)) {
    return new TwinSyncError('REMOTE_FAILED', `The mirror ${url} refused the ${what}: its repository lacks objects its own branch needs (git: "missing necessary objects"); it is damaged or incomplete, not behind`, {
      nextStep: `Check the mirror's repository where it lives (\`git fsck\` there, or the hosting service's support). ${kept}, and \`${line(['push', '--retry'])}\` sends them once it is fixed (\`${line(['push', '--retry', '--force'])}\` puts this twin's whole history there).`,
      details: { url, git: detail },
    })
  }
  if (UNPACK_FAILED.test(text)) {
    return new TwinSyncError('REMOTE_FAILED', `The mirror ${url} could not take the ${what}: its side failed to unpack what was sent (${detail})`, {
      nextStep: `What the mirror said is in the message (its disk full, its git failing). ${kept}, and \`${line(['push', '--retry'])}\` sends them once it is fixed.`,
      details: { url, git: detail },
    })
  }
  if (REMOTE_REJECTED.test(text)) {
    const reason = /\[remote rejected\] \(([^)\n]*(?:\)[^)\n]*)?)\)/.exec(text)?.[1] ?? 'no reason given'
    return new TwinSyncError('REMOTE_REJECTED', `The mirror ${url} refused the ${what} by its own rules (${reason}): ${detail}`, {
      nextStep: `What the mirror said is in the message (a hook, a protected branch, a rule of the hosting service); change that rule there or what it names. ${kept}.`,
      details: { url, git: detail, reason },
    })
  }
  if (/\[rejected\]|non-fast-forward|fetch first/i.test(text)) {
    if (context.refused !== undefined) return refusedBranch(url, line, context.refused, detail)
    return new TwinSyncError('REMOTE_REJECTED', `The mirror ${url} rejected the push: it has snapshots this twin does not`, {
      nextStep: `Run \`${line(['pull'])}\` to bring them here first (or, after a gc rewrote history, \`${line(['push', '--retry', '--force'])}\`).`,
      details: { url, git: detail },
    })
  }
  // Anything else (git could not start, the mirror's side failed): the snapshots stay here all the same.
  return new TwinSyncError('REMOTE_FAILED', `git failed with the mirror ${url} (${what}): ${detail}`, {
    nextStep: `What git said is in the message; \`${line(['github', 'test'])}\` checks the mirror (any git remote too). Nothing here was lost: ${what === 'fetch' ? `run \`${line(['pull'])}\` again` : `the snapshots stay in the twin and \`${line(['push', '--retry'])}\` sends them`} once it is fixed.`,
    details: { url, git: detail },
  })
}

/**
 * REMOTE_REJECTED for a push the mirror's branch turns away while it holds the commit the last
 * pull refused (MirrorRefusal): a pull cannot bring it, a forced push replaces it.
 */
export function refusedBranch(url: string, line: (args: readonly string[]) => string, refused: MirrorRefusal, detail: string): TwinSyncError {
  return new TwinSyncError('REMOTE_REJECTED', `The mirror ${url} rejected the push: its branch has commits this twin does not, and the last pull refused them (${refused.code}, the mirror's ${refused.commit.slice(0, 12)}: ${refused.message})`, {
    nextStep: `A pull brings them in only once the mirror is fixed. Put this twin's history over them (\`${line(['push', '--retry', '--force'])}\`: the mirror's commits this twin lacks are dropped from its branch), or fix the mirror's history there, then \`${line(['pull'])}\`.`,
    details: { url, git: detail, refused: refused.commit },
  })
}

/**
 * REMOTE_FSCK_REFUSED: the mirror checks what it is sent (receive.fsckObjects; GitHub does) and
 * refused an object of this twin's history. Every later push still holds it, so a push alone
 * never gets past it: a file (`.gitmodules`, `.gitattributes` a snapshot took before session
 * 45's FILES_GIT_REFUSES_CONTENT held such files out) is taken out of history with `forget`,
 * then the rewritten history is pushed with --force (the next step names the path).
 */
function fsckRefused(text: string, url: string, line: (args: readonly string[]) => string, objects: NonNullable<PushContext['fsckObjects']>, kept: string): TwinSyncError {
  const said = (o: { id: string; check: string; path?: string }) => `${o.path === undefined ? `object ${o.id.slice(0, 12)}` : `${o.path} (${o.id.slice(0, 12)})`}: ${o.check}`
  const named = objects.length === 0 ? (/remote: error: [^\n]*/.exec(text)?.[0] ?? 'fsck error') : objects.slice(0, 5).map(said).join(', ') + (objects.length > 5 ? ', …' : '')
  const files = objects.filter((o) => o.path !== undefined && o.ownFsck === true && isFsckJudgedName(o.path.split('/').pop() as string)).map((o) => twinPathArg(o.path as string))
  const forget = [...new Set(files)]
  const nextStep =
    forget.length > 0
      ? `Take ${forget.length === 1 ? 'that file' : 'those files'} out of this twin's history: \`${line(['forget', ...forget])}\`, then \`${line(['push', '--retry', '--force'])}\` (the rewritten history replaces the mirror's). A copy on the machine is no longer recorded (FILES_GIT_REFUSES_CONTENT). ${kept}.`
      : `The object is named in the message: a commit or folder of this twin's history the mirror's git refuses. Rewrite that part of the history (\`${line(['forget', 'PATH'])}\` for a file or folder), then \`${line(['push', '--retry', '--force'])}\`; or have the mirror take it (its receive.fsck.<check> setting). ${kept}.`
  return new TwinSyncError('REMOTE_FSCK_REFUSED', `The mirror ${url} checks what it is sent (as GitHub does) and refused the push for ${named}: every push holds ${objects.length > 1 ? 'those objects' : 'that object'} until this twin's history no longer does`, {
    nextStep,
    details: { url, git: text.split('\n').filter((l) => /remote: (?:error|fatal)|\[remote rejected\]/.test(l)).slice(0, 10).join(' / '), objects },
  })
}

/** The argument `forget` takes for a twin path: the machine path for a mirrored file, else the twin path. */
function twinPathArg(path: string): string {
  return path.startsWith('filesystem/') ? path.slice('filesystem'.length) : path
}
