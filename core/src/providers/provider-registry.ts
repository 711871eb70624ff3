import type { Hook, Interfaces, Config as OclifConfig } from '@oclif/core'
import type { Diagnostic, Provider, ProvidersHookOptions, ProvidersHookResult } from '@twinsync/sdk'
import { CATEGORIES, PathClaims, SDK_VERSION, TwinSyncError, codePrefix, errorDiagnostic, providerCodes, warningDiagnostic } from '@twinsync/sdk/light'
import { inject, injectable } from '../di.js'
import type { LoadedConfig } from '../config/config-file.js'
import { checkProviderSections, configLine } from '../config/config-file.js'
import { Tokens } from '../tokens.js'
import { RunTarget } from '../plan/run-target.js'
import { twinsyncLine } from '../plan/command-text.js'
import { builtinProviders } from './builtin-providers.js'
import { shareSdk, sdkRangeProblem } from './plugin-sdk.js'
import { providerManifest } from './provider-manifest.js'
import { COMMANDS } from '../plan/commands-domain.js'
import { claimedPathsProblem } from '../snapshot/document-paths.js'
import { knowCodes } from './run-time-codes.js'

type OclifPlugin = Interfaces.Plugin

declare module '@oclif/core/interfaces' {
  interface Hooks {
    'twinsync:providers': { options: ProvidersHookOptions; return: ProvidersHookResult | Provider[] }
  }
}

export const HOOK_EVENT = 'twinsync:providers'
const DEFAULT_HOOK_TIMEOUT_MS = 5000

export interface RegisteredProvider {
  provider: Provider
  /** The npm package it came from. */
  source: string
  /** Disabled in the configuration: listed, never run. */
  disabled: boolean
  /** Its own codes as TwinSync lists them (Provider.codes less any that break the rule: providerCodes). */
  codes: Readonly<Record<string, string>>
}

export interface ProviderSet {
  providers: RegisteredProvider[]
  claims: PathClaims
  /** Plugins that failed to load, timed out or returned something that is not a provider. */
  diagnostics: Diagnostic[]
}

/**
 * Finds every provider: the built-in ones, then whatever installed plugins answer to the
 * `twinsync:providers` hook. A plugin that throws, times out or answers nonsense becomes a
 * diagnostic and the others go on; TwinSync never fails because one plugin is broken.
 */
@injectable()
export class ProviderRegistry {
  private loaded: Promise<ProviderSet> | undefined

  constructor(
    @inject(Tokens.Config) private readonly config: LoadedConfig,
    @inject(Tokens.OclifConfig) private readonly oclif: OclifConfig,
    /** What the run acts on, for the `twinsync providers` a refusal names (none: constructed alone, a test). */
    @inject(RunTarget) private readonly target?: RunTarget,
  ) {}

  load(): Promise<ProviderSet> {
    this.loaded ??= this.discover()
    return this.loaded
  }

  /** The enabled providers, or only the named ones (refusing unknown names). */
  async select(names?: readonly string[]): Promise<RegisteredProvider[]> {
    const { providers } = await this.load()
    if (names === undefined || names.length === 0) return providers.filter((p) => !p.disabled)
    const known = new Set(providers.map((p) => p.provider.name))
    const unknown = names.filter((n) => !known.has(n))
    if (unknown.length > 0) {
      throw new TwinSyncError('PROVIDER_UNKNOWN', `Unknown provider${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
        nextStep: `Run \`${this.target?.line(['providers']) ?? twinsyncLine(['providers'], { root: '/' })}\` to list them; known: ${[...known].join(', ')}.`,
        details: { unknown },
      })
    }
    return providers.filter((p) => names.includes(p.provider.name))
  }

  private async discover(): Promise<ProviderSet> {
    const diagnostics: Diagnostic[] = []
    const candidates = [...(await builtinProviders()), ...(await this.fromPlugins(diagnostics))]
    // Records which plugin writes which part of the twin (see provider-manifest.ts).
    const manifest = providerManifest(() => providers)
    candidates.push({ provider: manifest, source: '@twinsync/core' })
    const disabled = new Set(this.config.values.providers?.disabled ?? [])
    const claims = new PathClaims()
    const providers: RegisteredProvider[] = []
    for (const { provider, source } of candidates) {
      const problem = fieldsThrow(() => shapeProblem(provider))
      if (problem !== undefined) {
        diagnostics.push(errorDiagnostic('PROVIDER_FAILED', `${source} returned an invalid provider: ${problem}`, { provider: source }))
        continue
      }
      if (providers.some((p) => p.provider.name === provider.name)) {
        diagnostics.push(warningDiagnostic('PROVIDER_FAILED', `${source} provides "${provider.name}", which is already loaded; ignored`, { provider: provider.name }))
        continue
      }
      // Its part of the twin: under system/, a path the twin can hold, apart from TwinSync's own files and every provider's loaded before it.
      const claimed = provider === manifest ? undefined : fieldsThrow(() => claimedPathsProblem(provider, providers.map((p) => p.provider)))
      if (claimed !== undefined) {
        // `plugins` commands take no --root, --repo or --config (oclif's: "Nonexistent flag: --root").
        const uninstall = twinsyncLine(['plugins', 'uninstall', source], { root: '/' })
        diagnostics.push(
          errorDiagnostic('PROVIDER_FAILED', `The ${provider.name} provider of ${source} is not loaded: ${claimed}`, {
            provider: provider.name,
            detail: `A fault in the ${provider.name} provider, not in TwinSync: a provider's twinPaths and inputPaths name its own documents under system/, apart from TwinSync's and every other provider's. The other providers run as usual, and its part of the twin is kept as it is. Update it, or report it to its authors, or remove it (\`${uninstall}\`).`,
          }),
        )
        continue
      }
      const isDisabled = disabled.has(provider.name)
      if (!isDisabled) {
        try {
          for (const pattern of provider.claims ?? []) claims.claim(provider.name, pattern)
        } catch (error) {
          diagnostics.push(errorDiagnostic('CLAIM_CONFLICT', (error as Error).message, { provider: provider.name }))
          continue
        }
      }
      providers.push({ provider, source, disabled: isDisabled, codes: {} })
    }
    judgeCodes(providers, diagnostics)
    await checkProviderSections(this.config, new Map(providers.map((p) => [p.provider.name, p.provider])), (path) => this.target?.line(['config']) ?? configLine()(path))
    return { providers, claims, diagnostics }
  }

  private async fromPlugins(diagnostics: Diagnostic[]): Promise<Array<{ provider: Provider; source: string }>> {
    await this.preparePlugins(diagnostics)
    const timeout = this.config.values.providers?.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS
    // oclif's hook timer is unref'd: a plugin that never answers would let Node exit mid-run
    // (exit 13, unsettled await). A ref'd timer keeps the process alive until the timeout fires.
    const keepAlive = setTimeout(() => undefined, timeout + 1000)
    let result: Hook.Result<ProvidersHookResult | Provider[]>
    try {
      result = await this.oclif.runHook(HOOK_EVENT, { sdkVersion: SDK_VERSION }, timeout, true)
    } finally {
      clearTimeout(keepAlive)
    }
    for (const failure of result.failures) {
      diagnostics.push(
        errorDiagnostic('PROVIDER_FAILED', `Plugin ${failure.plugin.name} failed to provide its providers: ${failure.error.message}`, {
          provider: failure.plugin.name,
          detail: 'The other providers run as usual. Reinstall or remove the plugin with `twinsync plugins`.',
        }),
      )
    }
    return result.successes.flatMap(({ plugin, result: answer }) => {
      const list = Array.isArray(answer) ? answer : (answer?.providers ?? [])
      if (!Array.isArray(answer)) diagnostics.push(...(answer?.diagnostics ?? []).map((d) => ({ ...d, provider: d.provider ?? plugin.name })))
      return list.map((provider) => ({ provider, source: plugin.name }))
    })
  }

  /**
   * Before any plugin code runs: a plugin whose declared @twinsync/sdk range does not accept this
   * host's SDK is refused (its hook is dropped for this run), and every other plugin imports the
   * host's own SDK (see plugin-sdk.ts).
   */
  private async preparePlugins(diagnostics: Diagnostic[]): Promise<void> {
    // Fakes in tests answer the hook only and have no plugin list.
    const all = (this.oclif as { plugins?: Map<string, OclifPlugin> }).plugins
    const plugins = [...(all?.values() ?? [])].filter((p) => p.type !== 'core' && (p.hooks[HOOK_EVENT]?.length ?? 0) > 0)
    const refusals = await Promise.all(plugins.map(async (plugin) => (await sdkRangeProblem(plugin)) ?? (await shareSdk(plugin))))
    plugins.forEach((plugin, i) => {
      const refused = refusals[i]
      if (refused === undefined) return
      diagnostics.push(refused)
      plugin.hooks[HOOK_EVENT] = []
    })
  }
}

/**
 * Each loaded provider's codes judged (providerCodes) once every provider is loaded, in load order:
 * a code is named for the provider whose prefix is the longest it starts with among all of them
 * (codeOwner), so a plugin "files-extra" owns FILES_EXTRA_… whichever loads first (session 49's
 * review, C2: first come by load order, and the bundled files provider could be blamed for
 * another plugin's code). A code that breaks the rule is left out with a PROVIDER_FAILED warning
 * naming the provider; what each may give at run time is told to callProvider (knowCodes).
 */
function judgeCodes(providers: RegisteredProvider[], diagnostics: Diagnostic[]): void {
  const names = providers.map((p) => p.provider.name)
  /** Each code a provider judged so far declares, and that provider: a code is one provider's. */
  const codeOwners = new Map<string, string>()
  for (const registered of providers) {
    const { provider, source } = registered
    let codes: ReturnType<typeof providerCodes>
    let declares = true
    try {
      declares = provider.codes !== undefined
      codes = providerCodes(provider, codeOwners, names)
    } catch (error) {
      // A `codes` getter or proxy that throws (session 49's review, C3): the provider's fault, as a table that breaks the rule is.
      codes = { codes: {}, problems: [`reading them failed: ${(error as Error)?.message ?? String(error)}`] }
    }
    if (codes.problems.length > 0) {
      diagnostics.push(
        warningDiagnostic('PROVIDER_FAILED', `The ${provider.name} provider of ${source} declares codes TwinSync does not list: ${codes.problems.join('; ')}`, {
          provider: provider.name,
          detail: `A fault in the ${provider.name} provider, not in TwinSync: a provider's own codes start with its name in capitals (${codePrefix(provider.name)}) and with no longer prefix of another loaded provider's name, are none of TwinSync's (the describe command lists those) nor another provider's, and say what they mean. The provider runs as usual and its other codes are listed. Update it, or report it to its authors.`,
        }),
      )
    }
    for (const code of Object.keys(codes.codes)) codeOwners.set(code, provider.name)
    registered.codes = codes.codes
    knowCodes(provider, source, declares ? Object.keys(codes.codes) : undefined, names)
  }
}

/**
 * What `check` says of a plugin's provider, or, when reading the provider's fields throws (a getter
 * or a proxy: session 49's review, C3), that as its problem: the plugin's fault, named as such by
 * the caller, never a failure of the whole load.
 */
function fieldsThrow(check: () => string | undefined): string | undefined {
  try {
    return check()
  } catch (error) {
    return `reading it threw: ${(error as Error)?.message ?? String(error)}`
  }
}

function shapeProblem(p: Provider): string | undefined {
  if (p === null || typeof p !== 'object') return 'not an object'
  if (typeof p.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(p.name)) return `bad name ${JSON.stringify(p.name)}`
  if (typeof p.version !== 'string') return 'no version'
  if (!CATEGORIES.includes(p.category)) return `bad category ${JSON.stringify(p.category)}`
  // The built-in commands domain runs what its changes say: no provider may pass for it.
  if (p.name === COMMANDS || p.category === COMMANDS) return `"${COMMANDS}" is the built-in commands domain (plans/*.yaml), not a provider's name or category`
  if (!Array.isArray(p.twinPaths)) return 'no twinPaths'
  if (typeof p.detect !== 'function' || typeof p.collect !== 'function') return 'detect() and collect() are required'
  return undefined
}
