import { TwinSyncError } from '@twinsync/sdk/light'
import type { MirrorRefusal } from './mirror-refusal.js'
import { tryGit } from '../twin/git.js'
import { redact } from './credentials.js'
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
    // GitHub's documented form for a token over HTTPS: user x-access-token, password the token.
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` })
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

/** What a failed push's words are read with besides git's output. */
export interface PushContext {
  /** The mirror's commit the last pull refused (mirror-refusal.ts): the branch a rejected push met. */
  refused?: MirrorRefusal
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
  if (/\[rejected\]|non-fast-forward|fetch first|\[remote rejected\]/i.test(text)) {
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
