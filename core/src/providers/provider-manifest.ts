import type { Diagnostic, PathClaims, Provider, TwinReader } from '@twinsync/sdk'
import { compareStrings, errorDiagnostic, stableStringify } from '@twinsync/sdk/light'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import { CORE_PATHS } from '../snapshot/document-paths.js'
import { tryGit } from '../twin/git.js'
import { twinsyncLine, type LineFor } from '../plan/command-text.js'

export const MANIFEST_PATH = 'system/twinsync/providers.json'

export interface ManifestEntry {
  name: string
  version: string
  /** The npm package the provider came from (a plugin, or a package shipped with TwinSync). */
  source: string
  twinPaths: string[]
}

/**
 * A facts provider about the twin itself: which provider, from which plugin package, writes
 * which part of the twin. With it, a twin whose plugin is not installed here says which plugin
 * is missing instead of being silently ignored.
 */
export function providerManifest(list: () => ReadonlyArray<{ provider: Provider; source: string; disabled: boolean }>): Provider {
  return {
    name: 'twin-providers',
    version: '1.0.0',
    category: 'facts',
    description: 'Which provider and plugin package writes each part of the twin',
    twinPaths: [MANIFEST_PATH],
    detect: async () => ({ detected: true, diagnostics: [] }),
    async collect() {
      const providers: ManifestEntry[] = list()
        .filter((p) => p.provider.name !== 'twin-providers' && p.provider.twinPaths.length > 0)
        .map(({ provider, source }) => ({ name: provider.name, version: provider.version, source, twinPaths: [...provider.twinPaths].sort(compareStrings) }))
        .sort((a, b) => compareStrings(a.name, b.name))
      const state = { providers }
      return { state, documents: [{ path: MANIFEST_PATH, content: stableStringify(state) }], diagnostics: [] }
    },
  }
}

/**
 * A document under system/ that no loaded provider owns (nor reads as an input), outside
 * TwinSync's own folders: one of a provider not loaded here (PROVIDER_MISSING). The one rule for
 * missingProviders and for the intent a snapshot holds (IntentService.holds).
 */
export function unloadedOwner(path: string, view: { providers: readonly Provider[]; claims: PathClaims }): boolean {
  return path.startsWith('system/') && !CORE_PATHS.some((c) => path.startsWith(c)) && ownerOfTwinPath(path, view.providers, view.claims) === undefined && !view.providers.some((pr) => pr.inputPaths?.includes(path))
}

/**
 * Twin documents under system/ that no loaded provider owns: each becomes an error naming the
 * plugin that wrote it (from the manifest the last snapshot recorded), so status and plan never
 * treat a domain whose plugin is missing as "in sync". `among`: only these paths (the documents
 * the intended twin added, as `status` asks).
 */
export async function missingProviders(
  twin: TwinReader,
  providers: readonly Provider[],
  claims: PathClaims,
  among?: ReadonlySet<string>,
  /** The manifest this machine's last snapshot recorded (recordedManifest): the only one whose plugin a next step names to install. */
  recordedHere: () => Promise<readonly ManifestEntry[]> = async () => [],
  /** This run's `twinsync ARGS` (RunTarget.line), for the `providers` its next steps name. */
  line: LineFor = (args) => twinsyncLine(args, { root: '/' }),
): Promise<Diagnostic[]> {
  const orphans = (await twin.list('system/')).filter((p) => (among === undefined || among.has(p)) && unloadedOwner(p, { providers, claims }))
  if (orphans.length === 0) return []
  const recorded = manifestEntries(await twin.readText(MANIFEST_PATH))
  const byWriter = new Map<string, { entry: ManifestEntry | undefined; paths: string[] }>()
  for (const path of orphans) {
    const entry = recorded.find((r) => r.twinPaths.some((t) => (t.endsWith('/') ? path.startsWith(t) : path === t)))
    const key = entry === undefined ? '' : `${entry.source}\0${entry.name}`
    const group = byWriter.get(key) ?? { entry, paths: [] }
    group.paths.push(path)
    byWriter.set(key, group)
  }
  // The twin is untrusted (a mirror anyone with the token can push to): a plugin only its own
  // manifest names is never pasted as `twinsync plugins install …` (session 18: a pulled
  // providers.json made TwinSync's next step install a package of the mirror's choosing, as root).
  const here = byWriter.size === 1 && byWriter.has('') ? [] : await recordedHere().catch(() => [] as readonly ManifestEntry[])
  const known = (entry: ManifestEntry) => here.some((h) => h.name === entry.name && h.source === entry.source && h.version === entry.version)
  return [...byWriter.values()].map(({ entry, paths }) => {
    const files = `${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`
    if (entry !== undefined && !known(entry)) {
      return errorDiagnostic('PROVIDER_MISSING', `No installed provider reads ${files} of the twin; the twin's own ${MANIFEST_PATH} says the ${entry.name} provider from plugin ${entry.source} ${entry.version} wrote it, which no snapshot of this machine recorded`, {
        path: paths[0] as string,
        provider: entry.name,
        detail: `Next step: find out where that part of the twin came from (a pull, an edit) before installing anything it names: TwinSync names a plugin to install only as this machine's last snapshot recorded it. Or remove the file from the twin. Until then that part of the twin is neither planned nor applied.`,
      })
    }
    return entry === undefined
      ? errorDiagnostic('PROVIDER_MISSING', `No installed provider reads ${files} of the twin`, {
          path: paths[0] as string,
          detail: `Next step: install the plugin that wrote it (\`twinsync plugins install NAME\`), see \`${line(['providers'])}\` for plugins that failed to load, or remove the file from the twin.`,
        })
      : errorDiagnostic('PROVIDER_MISSING', `The twin has ${files} of the ${entry.name} provider from plugin ${entry.source} ${entry.version}, which is not installed or failed to load`, {
          path: paths[0] as string,
          provider: entry.name,
          detail: `Next step: \`twinsync plugins install ${entry.source}\` (or check \`${line(['providers'])}\` for its load error). Until then that part of the twin is neither planned nor applied.`,
        })
  })
}

/** The provider manifest of `commit` (this machine's last snapshot); none when it cannot be read. */
export async function recordedManifest(dir: string, commit: string | undefined): Promise<readonly ManifestEntry[]> {
  if (commit === undefined) return []
  const shown = await tryGit(dir, ['cat-file', 'blob', `${commit}:${MANIFEST_PATH}`])
  return shown.ok ? manifestEntries(shown.output) : []
}

/**
 * The entries of a providers.json text that have the shape TwinSync writes; none when it is no
 * such JSON. The twin's own copy is untrusted (a mirror writes it): session 45, a pulled
 * `{"providers":[{"name":"x"}]}` beside a document no installed provider reads made plan and
 * status end in an internal error ("Cannot read properties of undefined (reading 'some')", exit 1).
 */
export function manifestEntries(text: string | undefined): ManifestEntry[] {
  let providers: unknown
  try {
    providers = (JSON.parse(text ?? '{}') as { providers?: unknown } | null)?.providers
  } catch {
    return []
  }
  if (!Array.isArray(providers)) return []
  return providers.filter((p: unknown): p is ManifestEntry => {
    const e = p as Partial<Record<keyof ManifestEntry, unknown>> | null
    return typeof e === 'object' && e !== null && typeof e.name === 'string' && typeof e.source === 'string' && typeof e.version === 'string' && Array.isArray(e.twinPaths) && e.twinPaths.every((t) => typeof t === 'string')
  })
}
