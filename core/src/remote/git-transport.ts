import { spawn } from 'node:child_process'
import { TwinSyncError } from '@twinsync/sdk'
import { gitOutput } from '../twin/git-process.js'
import { redact } from './credentials.js'
import { refuseInsecureTokenUrl } from './remote-url.js'
import { REMOTE_NAME } from './remote-settings.js'

export interface GitRunResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs git against the mirror. The token travels as an HTTP header set through git's
 * environment-only configuration (GIT_CONFIG_COUNT…): never in the URL, .git/config or the
 * process arguments, and the environment of a process is readable only by its owner.
 */
export async function runGitWithToken(dir: string, args: string[], token: string | undefined, timeoutMs = 120_000): Promise<GitRunResult> {
  if (token !== undefined) await refuseInsecureMirror(dir)
  return runGit(dir, args, token, timeoutMs)
}

/**
 * The URLs git would really use for the mirror (after url.*.insteadOf, for fetch and push):
 * none may be plain http:// to another machine when a token goes with the request.
 */
async function refuseInsecureMirror(dir: string): Promise<void> {
  const urls = await Promise.all(
    [['--all'], ['--push', '--all']].map((flags) =>
      gitOutput(dir, ['remote', 'get-url', ...flags, REMOTE_NAME]).then((out) => out.toString('utf8').split('\n').filter(Boolean), () => []),
    ),
  )
  for (const url of urls.flat()) refuseInsecureTokenUrl(url)
}

function runGit(dir: string, args: string[], token: string | undefined, timeoutMs: number): Promise<GitRunResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_HTTP_LOW_SPEED_LIMIT: '1000',
    GIT_HTTP_LOW_SPEED_TIME: '30',
    GIT_CONFIG_COUNT: '0',
  }
  delete env.GITHUB_TOKEN
  delete env.GH_TOKEN
  if (token !== undefined) {
    // GitHub's documented form for a token over HTTPS: user x-access-token, password the token.
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` })
  }
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', dir, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(new TwinSyncError('GIT_MISSING', `git could not be started: ${e.message}`, { nextStep: 'Install git (apt-get install git).' }))
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 124, stdout: redact(Buffer.concat(out).toString('utf8'), token), stderr: redact(Buffer.concat(err).toString('utf8'), token) })
    })
  })
}

/** A failed git operation with the mirror as an error a person can act on. */
export function mirrorError(result: GitRunResult, what: string, url: string): TwinSyncError {
  // With --porcelain, git reports rejected refs on standard output.
  const text = `${result.stderr}\n${result.stdout}`.trim()
  const detail = text.split('\n').filter((l) => l.trim().length > 0).slice(-3).join(' / ')
  if (/\b40[13]\b|Authentication failed|could not read Username|Invalid username or password|terminal prompts disabled/i.test(text)) {
    return new TwinSyncError('REMOTE_AUTH', `The mirror ${url} refused the token (${what})`, {
      nextStep: 'Check the token and its access to the repository: set GITHUB_TOKEN, or `twinsync github link OWNER/REPO --token-stdin` / `twinsync remote set URL --token-stdin`.',
      details: { url, git: detail },
    })
  }
  if (/Could not resolve host|Failed to connect|Connection refused|Connection timed out|Couldn't connect|unable to access|Network is unreachable|No route to host|timed out|does not appear to be a git repository/i.test(text) || result.code === 124) {
    return new TwinSyncError('REMOTE_UNREACHABLE', `The mirror ${url} could not be reached (${what}): ${detail}`, {
      nextStep: 'Check the network and the remote; the snapshots stay here and `twinsync push --retry` sends them later.',
      details: { url, git: detail },
    })
  }
  if (/\[rejected\]|non-fast-forward|fetch first|\[remote rejected\]/i.test(text)) {
    return new TwinSyncError('REMOTE_REJECTED', `The mirror ${url} rejected the push: it has snapshots this twin does not`, {
      nextStep: 'Run `twinsync pull` to bring them here first (or, after `twinsync gc` rewrote history, `twinsync push --retry --force`).',
      details: { url, git: detail },
    })
  }
  return new TwinSyncError('REMOTE_FAILED', `git failed with the mirror ${url} (${what}): ${detail}`, { details: { url, git: detail } })
}
