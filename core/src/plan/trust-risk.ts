import type { Change } from '@twinsync/sdk'

/**
 * Changes that hand out root or change whom the machine trusts, whichever provider plans them:
 * an apt source trusted without a signature, a signing key, an apt hook, a sudo rule, an SSH
 * key that logs in, a library every program loads, a PAM line, a setuid or setgid file, file
 * capabilities. Each is code running as root (or a door to it), yet was rated like any file of
 * /etc (session 19: a pulled `/etc/apt/apt.conf.d/99x` with `DPkg::Pre-Invoke` was a low-risk
 * create). The planner makes such a change high risk with this reason (`riskReason`), which both
 * front ends show beside it. The one rule, read from the change's machine path and, for a write,
 * its text and mode (`data: { action, path, text, mode, capabilities }`, the files provider's and
 * any plugin's that writes whole files the same way).
 */
export function trustReason(change: Change, keyrings: ReadonlySet<string> = new Set()): string | undefined {
  const data = (change.data ?? {}) as { action?: unknown; path?: unknown; text?: unknown; mode?: unknown; capabilities?: unknown }
  const action = typeof data.action === 'string' ? data.action : undefined
  const path = typeof data.path === 'string' ? data.path : change.resource
  if (!path.startsWith('/')) return undefined
  const text = action === 'write' && typeof data.text === 'string' ? data.text : undefined
  const mode = typeof data.mode === 'number' ? data.mode : undefined
  // Mode and capabilities: whoever runs the file gets its owner's (root's) powers.
  if (typeof data.capabilities === 'string' && data.capabilities !== '' && (action === 'write' || action === 'attributes' || action === 'mkdir')) {
    return 'file capabilities: whoever runs it gets those powers of root'
  }
  // New content in such a file is new code run with those powers; a mode change the provider
  // already rated high (it grants the bit) gets the reason, one that keeps or drops it does not.
  if (mode !== undefined && (mode & 0o6000) !== 0 && (action === 'write' || ((action === 'chmod' || action === 'attributes') && change.risk === 'high'))) {
    return `${(mode & 0o4000) !== 0 ? 'setuid' : 'setgid'}: runs as its ${(mode & 0o4000) !== 0 ? 'owner' : 'group'} for whoever runs it`
  }
  // What follows is about a file's content or its being there: a write or a link put in place.
  if (action !== undefined && action !== 'write' && action !== 'symlink') return undefined
  if (APT_KEYRING.test(path) || keyrings.has(path)) return 'an apt signing key: packages it signs install as root'
  if (APT_SOURCE.test(path)) {
    if (text === undefined) return action === 'symlink' ? 'an apt source (a link): packages from it install as root' : undefined
    if (INSECURE_SOURCE.test(text)) return 'an apt source trusted without a valid signature (trusted/allow-insecure): its packages install as root unchecked'
    return undefined
  }
  if (APT_CONF.test(path)) {
    if (text === undefined) return action === 'symlink' ? 'apt configuration (a link): may run commands as root on every apt run' : undefined
    if (APT_HOOK.test(text)) return 'an apt hook: runs its command as root on every apt or dpkg run'
    if (APT_INSECURE.test(text)) return 'apt told to accept unsigned or insecure packages'
    return undefined
  }
  if (SUDOERS.test(path)) return text !== undefined && /\bNOPASSWD\s*:/.test(text) ? 'a sudo rule without a password: root for whoever it names' : 'sudo rules: who may run what as root'
  if (AUTHORIZED_KEYS.test(path)) return 'SSH authorized keys: each key logs in as that user'
  if (path === '/etc/ld.so.preload') return 'a library loaded into every program, root\'s too'
  if (path === '/etc/ld.so.conf' || path.startsWith('/etc/ld.so.conf.d/')) return 'where every program, root\'s too, finds its libraries'
  if (path === '/etc/pam.conf' || path.startsWith('/etc/pam.d/')) return 'PAM: how logins, su and sudo check who you are'
  return undefined
}

/**
 * The planner's step: every change `trustReason` names is high risk, with its reason. A keyring a
 * planned apt source names with `signed-by` counts as a signing key wherever it lies.
 */
export function markTrustChanges(changes: Change[]): void {
  const keyrings = new Set<string>()
  for (const c of changes) {
    const data = (c.data ?? {}) as { action?: unknown; path?: unknown; text?: unknown }
    if (data.action !== 'write' || typeof data.path !== 'string' || typeof data.text !== 'string' || !APT_SOURCE.test(data.path)) continue
    for (const m of data.text.matchAll(SIGNED_BY)) for (const p of m[1]?.split(',') ?? []) if (p.startsWith('/')) keyrings.add(p.trim())
  }
  for (const [i, c] of changes.entries()) {
    const reason = trustReason(c, keyrings)
    if (reason !== undefined) changes[i] = { ...c, risk: 'high', riskReason: reason }
  }
}

const APT_KEYRING = /^\/(etc\/apt\/trusted\.gpg(\.d\/.+)?|etc\/apt\/keyrings\/.+|usr\/share\/keyrings\/.+|usr\/local\/share\/keyrings\/.+)$/
const APT_SOURCE = /^\/etc\/apt\/(sources\.list|sources\.list\.d\/.+)$/
const APT_CONF = /^\/etc\/apt\/(apt\.conf|apt\.conf\.d\/.+)$/
const SUDOERS = /^\/etc\/(sudoers|sudoers\.d\/.+)$/
const AUTHORIZED_KEYS = /(^\/etc\/ssh\/authorized_keys(\/|$))|\/authorized_keys2?$/
/** One-line `[trusted=yes allow-insecure=yes]` options, or deb822's `Trusted: yes`. */
const INSECURE_SOURCE = /\b(trusted|allow-insecure|allow-weak|allow-downgrade-to-insecure)\s*[=:]\s*(yes|true|1)\b/i
/**
 * apt options that run a command or choose the programs apt runs, in `::` or nested `{ }` form
 * alike (so matched by the option's own word): dpkg's and apt's invoke hooks, Pre-Install-Pkgs,
 * a proxy detector, `Dir::Bin::…`. A comment naming one is rated high too: the safe side.
 */
const APT_HOOK = /\b(Pre-Invoke|Post-Invoke|Post-Invoke-Success|Pre-Install-Pkgs|Proxy-Auto-Detect)\b|\bDir\s*::\s*Bin\b|\bBin\s*\{/i
const APT_INSECURE = /\b(AllowUnauthenticated|AllowInsecureRepositories|AllowDowngradeToInsecureRepositories|AllowWeakRepositories|Check-Valid-Until|Check-Date)\b/i
const SIGNED_BY = /signed-by\s*[=:]\s*([^\s\]]+)/gi
