import { TwinSyncError } from '@twinsync/sdk/light'
import type { LineFor } from '../plan/command-text.js'

/**
 * Which remote URLs TwinSync mirrors to. git hands a host or path that starts with "-" to ssh
 * as an option (`ssh://-oProxyCommand=…`), and transports such as ext:: run commands, so only
 * plain forms with a conservative grammar are accepted; a URL never carries a password.
 */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/
const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/
const PATH_CHARS = /^[A-Za-z0-9._~\/%+@=,:-]+$/

export type RemoteUrlKind = 'https' | 'http' | 'ssh' | 'path'

/** `line`: this run's `twinsync ARGS` (RunTarget.line), for the `remote set` a refusal names. */
export function checkRemoteUrl(url: string, line: LineFor): RemoteUrlKind {
  const kind = classify(url)
  if (kind === undefined) throw invalid(url)
  if (kind === 'http' && !isLoopbackHttp(url)) throw insecure(url, line)
  return kind
}

/** The token is sent over http:// only to this machine (a test server, an SSH tunnel). */
export function refuseInsecureTokenUrl(url: string): void {
  if (/^http:\/\//i.test(url) && !isLoopbackHttp(url)) throw insecure(url)
}

function classify(url: string): RemoteUrlKind | undefined {
  if (url.length > 2048 || /[\s\0-\x1f\x7f\\]/.test(url)) return undefined
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase()
  if (scheme !== undefined) {
    if (scheme !== 'https' && scheme !== 'http' && scheme !== 'ssh' && scheme !== 'file') return undefined
    const rest = url.slice(scheme.length + 3)
    if (scheme === 'file') return rest.startsWith('/') && pathOk(rest) ? 'path' : undefined
    const slash = rest.indexOf('/')
    if (slash <= 0) return undefined
    let authority = rest.slice(0, slash)
    const path = rest.slice(slash)
    if (!pathOk(path) || path === '/') return undefined
    const at = authority.lastIndexOf('@')
    if (at >= 0) {
      const user = authority.slice(0, at)
      // user:password@ is a credential in the URL; a plain user name is allowed for ssh only.
      if (scheme !== 'ssh' || !USER.test(user)) return undefined
      authority = authority.slice(at + 1)
    }
    const port = /^(.*?)(?::(\d{1,5}))?$/.exec(authority)
    const host = port?.[1] ?? ''
    if (!HOST.test(host) || (port?.[2] !== undefined && Number(port[2]) > 65535)) return undefined
    return scheme as RemoteUrlKind
  }
  if (url.startsWith('/')) return pathOk(url) ? 'path' : undefined
  // scp-like: user@host:path (git treats it as ssh).
  const scp = /^([^@:/]+)@([^:/]+):(.+)$/.exec(url)
  if (scp !== null && USER.test(scp[1] as string) && HOST.test(scp[2] as string) && pathOk(scp[3] as string)) return 'ssh'
  return undefined
}

function pathOk(path: string): boolean {
  return PATH_CHARS.test(path) && !path.startsWith('-') && !path.split('/').some((p) => p === '..' || p.startsWith('-'))
}

function isLoopbackHttp(url: string): boolean {
  const host = /^http:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^:/]+)/i.exec(url)?.[1]?.toLowerCase()
  return host === 'localhost' || host === '[::1]' || (host !== undefined && /^127(?:\.\d{1,3}){3}$/.test(host))
}

function redacted(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@').slice(0, 200)
}

function invalid(url: string): TwinSyncError {
  return new TwinSyncError('REMOTE_INVALID', `Not a remote TwinSync can mirror to: ${redacted(url)}`, {
    nextStep: 'Use https://host/path.git, ssh://[user@]host/path, user@host:path, or an absolute path (no part may start with "-"); give a token with --token-stdin, never inside the URL.',
    details: { url: redacted(url) },
  })
}

/** `line`: the run's lines; none where git is about to run (git-transport.ts), which says the step in words. */
function insecure(url: string, line?: LineFor): TwinSyncError {
  const https = redacted(url).replace(/^http:/i, 'https:')
  return new TwinSyncError('REMOTE_INSECURE', `${redacted(url)} is plain http://: the token would cross the network unencrypted`, {
    nextStep: `Use https:// (${line === undefined ? `remote set ${https}, with this run's --root, --repo and --config` : `\`${line(['remote', 'set', https])}\``}) or an ssh:// remote; plain http:// is accepted only for this machine (localhost, 127.0.0.1, [::1]).`,
    details: { url: redacted(url) },
  })
}
