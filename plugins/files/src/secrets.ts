import { randomBytes, createHmac } from 'node:crypto'
import { findSecrets, type ProviderCache } from '@twinsync/sdk'
import { PathPatterns } from './ignore.js'

/**
 * Paths whose content never leaves the machine: password hashes, SSH host keys, TLS keys.
 * Recorded in the manifest as present (size, owner, mode, keyed hash) with `secret: true`, never copied.
 */
export const DEFAULT_SECRET_PATHS: readonly string[] = [
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/ssh/ssh_host_*_key',
  '/etc/ssl/private/**',
  '/etc/security/opasswd',
  '/etc/NetworkManager/system-connections/**',
  '/etc/wireguard/*.conf',
  '/etc/ppp/*-secrets',
  '/etc/postfix/sasl_passwd',
  '/etc/postfix/sasl_passwd.db',
  // Files of bare credentials (a password alone, `user:password`, `host:user:password`,
  // `mount user password`): nothing in their content says "secret" to the detector.
  '/etc/ldap.secret',
  '/etc/libnss-ldap.secret',
  '/etc/pam_ldap.secret',
  '/etc/rsyncd.secrets',
  '/etc/davfs2/secrets',
  '/etc/exim4/passwd',
  '/etc/exim4/passwd.client',
  '/etc/ipsec.secrets',
  '/etc/ipsec.d/*.secrets',
  '/etc/chrony/chrony.keys',
  '/etc/ntpsec/ntp.keys',
  '/etc/ntp.keys',
  // Users' own keys and tokens, in case a user adds ~/.ssh or ~/.config/gh to the include set.
  '/**/.ssh/id_*',
  '/**/.config/gh/hosts.yml',
  '/**/.git-credentials',
  '/**/.netrc',
  '/**/.pgpass',
  '/**/.docker/config.json',
  '/**/.kube/config',
]

/** Why a file is private although the detector found nothing in it. */
export const ROOT_ONLY_UNCHECKED = 'root-only, content not checked'

export class SecretRules {
  private readonly paths: PathPatterns

  constructor(
    readonly extraPaths: readonly string[],
    readonly detectContent: boolean,
  ) {
    this.paths = new PathPatterns([...DEFAULT_SECRET_PATHS, ...extraPaths])
  }

  /** Why the path alone makes a file secret, or undefined. */
  pathVerdict(path: string): string | undefined {
    return this.paths.matches(path) ? 'path rule' : undefined
  }

  /**
   * The detector's first rule that matches the content, or undefined. Binary content is searched
   * as latin1 (a PEM key inside a keystore still shows). The SDK's detector is the only rule set.
   */
  async contentVerdict(content: Uint8Array, path: string): Promise<string | undefined> {
    if (!this.detectContent) return undefined
    const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1')
    return (await findSecrets(text, { path }))[0]?.rule
  }
}

/**
 * Only root can read the file: owned by root, no read bit for others, and the group's read bit only
 * for group root. Such a file is private unless its content is shown to be free of findings (text
 * the detector read and passed); binary, oversized or unchecked content of such a file stays private.
 */
export function onlyRootCanRead(stat: { mode: number; uid: number; gid: number }): boolean {
  if (stat.uid !== 0) return false
  if ((stat.mode & 0o004) !== 0) return false
  return (stat.mode & 0o040) === 0 || stat.gid === 0
}

const KEY_NAME = 'secret-hash-key'

/**
 * The key of the keyed hash recorded for secret files, kept in the provider cache (inside the
 * twin's .git, never committed or pushed). A plain sha256 of a short password file could be
 * guessed offline from the twin; an HMAC under a key that stays on the machine cannot. Losing the
 * key makes every secret's hash change once (a snapshot records every secret file as changed), so
 * it is state, not a cache: written durably, and one an older store wrote (without the core's
 * check) is still read, proved whole by its form (64 hex digits), and written again in the new form.
 */
export async function secretHashKey(cache: ProviderCache): Promise<Buffer> {
  const stored = keyIn(await cache.read(KEY_NAME))
  if (stored !== undefined) return stored
  const earlier = keyIn(await cache.read(KEY_NAME, { earlier: true }))
  const key = earlier ?? randomBytes(32)
  await cache.write(KEY_NAME, key.toString('hex'), { durable: true })
  return key
}

function keyIn(text: string | undefined): Buffer | undefined {
  const trimmed = text?.trim()
  return trimmed !== undefined && KEY_FORM.test(trimmed) ? Buffer.from(trimmed, 'hex') : undefined
}

const KEY_FORM = /^[0-9a-f]{64}$/

export function secretHash(key: Buffer, content: Uint8Array): string {
  return 'hmac-sha256:' + createHmac('sha256', key).update(content).digest('hex')
}
