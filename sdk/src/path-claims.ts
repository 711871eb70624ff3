import { TwinSyncError } from './errors.js'
import { pathPatternToRegExp } from './glob.js'

/** The provider that owns every included path nobody else claims. */
export const DEFAULT_OWNER = 'files'

interface Claim {
  provider: string
  pattern: string
  regex: RegExp
  /** Higher wins: literal characters count, wildcards do not. */
  specificity: number
}

/**
 * Each path of the machine belongs to exactly one provider. A domain provider claims the paths
 * whose meaning it understands (cron claims `/var/spool/cron/crontabs/*`) and mirrors and applies
 * them itself; every other path belongs to the files provider.
 *
 * Patterns are absolute path patterns (pathPatternToRegExp): `*` matches within one path
 * component, `**` matches any depth.
 * When two patterns match, the more specific one wins; the same pattern claimed by two
 * providers is a conflict, refused when it is registered.
 */
export class PathClaims {
  private readonly claims: Claim[] = []
  private readonly cache = new Map<string, string>()
  /**
   * Every claim's pattern as one expression: a path none of them matches (most of a walk's) is
   * the default owner's at once, without a test per claim or a cache entry. Speed (issue 22):
   * the scale root's walk asks for 25,000 paths.
   */
  private anyClaim: RegExp | undefined

  constructor(readonly defaultOwner: string = DEFAULT_OWNER) {}

  claim(provider: string, pattern: string): void {
    if (!pattern.startsWith('/')) {
      throw new TwinSyncError('PATH_INVALID', `Provider ${provider} claims a relative pattern: ${pattern}`)
    }
    const existing = this.claims.find((c) => c.pattern === pattern)
    if (existing !== undefined && existing.provider !== provider) {
      throw new TwinSyncError('CLAIM_CONFLICT', `${provider} and ${existing.provider} both claim ${pattern}`, {
        nextStep: 'Disable one of the two providers in the configuration (providers.disabled).',
        details: { pattern, providers: [existing.provider, provider] },
      })
    }
    if (existing !== undefined) return
    this.claims.push({ provider, pattern, regex: pathPatternToRegExp(pattern), specificity: pattern.replace(/\*/g, '').length })
    this.cache.clear()
    this.anyClaim = undefined
  }

  /** The one provider that owns `path`. */
  ownerOf(path: string): string {
    const cached = this.cache.get(path)
    if (cached !== undefined) return cached
    this.anyClaim ??= new RegExp(this.claims.length === 0 ? '(?!)' : this.claims.map((c) => `(?:${c.regex.source})`).join('|'))
    if (!this.anyClaim.test(path)) return this.defaultOwner
    let best: Claim | undefined
    for (const c of this.claims) {
      if (c.regex.test(path) && (best === undefined || c.specificity > best.specificity)) best = c
    }
    const owner = best?.provider ?? this.defaultOwner
    this.cache.set(path, owner)
    return owner
  }

  /** Is `path` owned by another provider than `provider`? */
  isClaimedByOther(provider: string, path: string): boolean {
    return this.ownerOf(path) !== provider
  }

  /**
   * The first claim of a provider other than `except` whose pattern can match a path strictly
   * below `folder` (another provider writes in it), or undefined. Matched name by name: a `**`
   * reaches any depth; `/etc/rc?.d/*` is below `/etc/rc2.d`, not below `/etc/rc2.d/S01x`.
   */
  claimBelow(folder: string, except: string): { provider: string; pattern: string } | undefined {
    const names = folder.split('/').filter(Boolean)
    for (const { provider, pattern } of this.claims) {
      if (provider === except) continue
      const parts = pattern.split('/').filter(Boolean)
      let below = parts.length > names.length
      for (const [i, name] of names.entries()) {
        const part = parts[i]
        if (part === '**') {
          below = true
          break
        }
        if (part === undefined || !pathPatternToRegExp(part).test(name)) {
          below = false
          break
        }
      }
      if (below) return { provider, pattern }
    }
    return undefined
  }

  /** Every claim, for `twinsync providers` and the docs. */
  list(): Array<{ provider: string; pattern: string }> {
    return this.claims.map(({ provider, pattern }) => ({ provider, pattern }))
  }
}
