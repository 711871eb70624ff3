import { PathPatterns } from './ignore.js'

/**
 * Paths whose content never leaves the machine: password hashes, SSH host keys, TLS keys.
 * Recorded in the manifest as present (size, owner, mode) with `secret: true`, never copied.
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
  // Users' own keys and tokens, in case a user adds ~/.ssh or ~/.config/gh to the include set.
  '/**/.ssh/id_*',
  '/**/.config/gh/hosts.yml',
  '/**/.git-credentials',
  '/**/.netrc',
  '/**/.pgpass',
]

interface ContentRule {
  name: string
  pattern: RegExp
}

/** Content that is a secret wherever it sits: private keys and well-known token formats. */
const CONTENT_RULES: readonly ContentRule[] = [
  { name: 'private key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { name: 'GitHub token', pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b/ },
  { name: 'GitHub token', pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}/ },
  { name: 'AWS access key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { name: 'GitLab token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { name: 'Stripe key', pattern: /\b[rs]k_live_[A-Za-z0-9]{20,}/ },
  { name: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
]

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

  /** Why the content makes a file secret, or undefined. Binary content is searched as latin1. */
  contentVerdict(content: Uint8Array): string | undefined {
    if (!this.detectContent) return undefined
    return contentSecret(content)
  }
}

export function contentSecret(content: Uint8Array): string | undefined {
  const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1')
  return CONTENT_RULES.find((r) => r.pattern.test(text))?.name
}
