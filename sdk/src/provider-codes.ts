import { ERROR_CODES } from './errors.js'
import type { Provider } from './provider.js'

/** A code as TwinSync writes one: capitals and digits in words joined by "_" (FILES_NOT_MIRRORED). */
const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/

/**
 * Codes named before the prefix rule, kept as they are (a code is stable), by provider: the
 * bundled autostart provider's (plugins/autostart/src/codes.ts). Another plugin cannot load a
 * provider of that name beside the bundled one (the host ignores a second provider of a name).
 */
const NAMED_BEFORE_THE_RULE: Readonly<Record<string, readonly string[]>> = { autostart: ['RC_LOCAL_MODE_ADJUSTED'] }

/** What a provider's own codes start with: its name in capitals, a dash as "_" ("files" → "FILES_", "my-app" → "MY_APP_"). */
export function codePrefix(providerName: string): string {
  return `${providerName.toUpperCase().replaceAll('-', '_')}_`
}

/**
 * The provider a code is named for, among `names` (the loaded providers'): a code named before the
 * prefix rule is its provider's (autostart's RC_LOCAL_MODE_ADJUSTED); any other is the provider's
 * whose prefix (codePrefix) is the longest the code starts with, whatever the order of `names`
 * (FILES_EXTRA_GONE is "files-extra"'s beside "files": prefixes nest, session 49's review C2);
 * undefined when no prefix matches. A provider's name is lower case, digits and "-", so no two
 * names give one prefix.
 */
export function codeOwner(code: string, names: Iterable<string>): string | undefined {
  for (const [name, codes] of Object.entries(NAMED_BEFORE_THE_RULE)) if (codes.includes(code)) return name
  let owner: string | undefined
  let longest = 0
  for (const name of names) {
    const prefix = codePrefix(name)
    if (prefix.length > longest && code.startsWith(prefix)) {
      owner = name
      longest = prefix.length
    }
  }
  return owner
}

export interface ProviderCodes {
  /** The declared codes TwinSync lists as the provider's (Provider.codes less the refused ones). */
  codes: Record<string, string>
  /** One sentence for each code refused, naming it and what is wrong: the provider's fault. */
  problems: string[]
}

/**
 * A provider's `codes` (Provider.codes) judged by the one rule the host (when it loads the
 * provider) and the conformance kit apply: each is a code (FILES_NOT_MIRRORED), starts with the
 * provider's name (codePrefix) and is named for no other provider (codeOwner: the longest prefix
 * among the provider's and `names`, the other loaded providers'), is none of TwinSync's own
 * (ERROR_CODES) nor one another provider declared (`others`: code → its provider), and says what it
 * means (a description that is not empty). A code that fails is left out of `codes` and named in
 * `problems`; the rest are kept.
 */
export function providerCodes(provider: Pick<Provider, 'name' | 'codes'>, others: ReadonlyMap<string, string> = new Map(), names: Iterable<string> = []): ProviderCodes {
  const declared: unknown = provider.codes
  if (declared === undefined) return { codes: {}, problems: [] }
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    return { codes: {}, problems: ['its codes are not an object of CODE: "what it means and the next step"'] }
  }
  const prefix = codePrefix(provider.name)
  const loaded = [provider.name, ...names]
  const codes: Record<string, string> = {}
  const problems: string[] = []
  for (const [code, description] of Object.entries(declared as Record<string, unknown>)) {
    const shown = JSON.stringify(code.length > 80 ? `${code.slice(0, 80)}...` : code)
    const owner = CODE.test(code) ? codeOwner(code, loaded) : undefined
    const problem = !CODE.test(code)
      ? 'is not a code (capital letters, digits and "_")'
      : Object.hasOwn(ERROR_CODES, code)
        ? "is one of TwinSync's own codes (describe lists them): use it without declaring it, or name yours apart"
        : !code.startsWith(prefix) && owner !== provider.name
          ? `does not start with ${prefix} (the provider's name)`
          : owner !== provider.name
            ? `is named for the ${owner} provider (${code.startsWith(codePrefix(owner as string)) ? `${codePrefix(owner as string)}, longer than ${prefix}` : 'named before the prefix rule'})`
            : others.has(code)
              ? `is declared by the ${others.get(code)} provider too`
              : typeof description !== 'string' || description.trim() === ''
                ? 'does not say what it means (its description is not a text, or empty)'
                : undefined
    if (problem === undefined) codes[code] = description as string
    else problems.push(`${shown} ${problem}`)
  }
  return { codes, problems }
}
