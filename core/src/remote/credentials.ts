import { mkdir, readFile, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { TwinSyncError, writeFileAtomic } from '@twinsync/sdk/light'

/**
 * Where the token is kept when it is not in the environment: outside the twin and outside
 * every path the files provider mirrors by default (/etc, ~/.config), mode 0600.
 */
export function credentialsPath(uid = process.getuid?.() ?? 0, env = process.env): string {
  if (env.TWINSYNC_CREDENTIALS) return env.TWINSYNC_CREDENTIALS
  if (uid === 0) return '/var/lib/twinsync/credentials'
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'twinsync', 'credentials')
}

export interface TokenSource {
  token: string
  from: 'GITHUB_TOKEN' | 'GH_TOKEN' | 'credentials file'
}

/** GITHUB_TOKEN, then GH_TOKEN, then the credentials file. */
export async function findToken(env = process.env): Promise<TokenSource | undefined> {
  if (env.GITHUB_TOKEN) return { token: env.GITHUB_TOKEN.trim(), from: 'GITHUB_TOKEN' }
  if (env.GH_TOKEN) return { token: env.GH_TOKEN.trim(), from: 'GH_TOKEN' }
  try {
    const saved = JSON.parse(await readFile(credentialsPath(), 'utf8')) as { token?: string }
    if (saved.token) return { token: saved.token, from: 'credentials file' }
  } catch {
    // no file: no token
  }
  return undefined
}

export async function saveToken(token: string): Promise<string> {
  const path = credentialsPath()
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  await writeFileAtomic(path, JSON.stringify({ token }) + '\n', { mode: 0o600 })
  return path
}

export async function forgetToken(): Promise<void> {
  await rm(credentialsPath(), { force: true })
}

/** The token from standard input (--token-stdin), so it never shows up in process arguments. */
export async function readTokenFromStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer))
  // Checked by RemoteService, whichever front end gave it, before it is sent anywhere or kept (refuseMalformedToken).
  return Buffer.concat(chunks).toString('utf8').trim()
}

/**
 * A token a person gives (--token-stdin, the panel's token field) is one word: not empty, no
 * white space in it. RemoteService asks this of every token it is given, before the token is sent
 * anywhere or kept; reading standard input asks it too, before anything else runs. Session 40:
 * only the reading of standard input checked, so the panel sent a pasted "token ghp_…" to GitHub
 * and said REMOTE_AUTH where the CLI said TOKEN_MISSING.
 */
export function refuseMalformedToken(token: string, again: string): void {
  if (token.length > 0 && !/\s/.test(token)) return
  throw new TwinSyncError('TOKEN_MISSING', token.length === 0 ? 'No token given (standard input or the token field was empty)' : 'The token given contains spaces; a token is one word', {
    nextStep: `Give the token alone: \`printf %s "$TOKEN" | ${again}\`, or paste only the token into the control panel's token field.`,
  })
}

/**
 * The Authorization header's value a token goes to the mirror as: GitHub's documented form for a
 * token over HTTPS (Basic, user x-access-token, password the token).
 */
export function basicCredential(token: string): string {
  return Buffer.from(`x-access-token:${token}`).toString('base64')
}

/**
 * Replace the token wherever it might appear in text we are about to show or log: as it is, and
 * as the header git sends it in (basicCredential). Session 47: only the token itself was; a
 * mirror (or a proxy before it) that printed the request's header back (a hook's `remote:`
 * lines, an error page git shows) had the header value shown in the push's message, and a
 * scheduled snapshot's warning goes to the system journal. Its base64 decodes to the token.
 */
export function redact(text: string, token: string | undefined): string {
  if (token === undefined || token.length < 4) return text
  return text.split(token).join('***').split(basicCredential(token)).join('***')
}
