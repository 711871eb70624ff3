import { createHash } from 'node:crypto'
import { compareStrings, redactSecrets, secretRulesInNames, warningDiagnostic, type Diagnostic, type ProviderContext, appendAll } from '@twinsync/sdk'
import { defaultTargetOf, unitsWantedAtBoot } from './boot-units.js'
import type { InstallSection } from './install-section.js'
import { addConfigDrift } from './config-drift.js'
import { collectRuntime, managerRuns, withUnloadedUnits } from './runtime-units.js'
import type { SystemdState, UnitEntry } from './state.js'
import { UnitFileIndex } from './unit-file-index.js'
import { PERSISTENT_CONFIG } from './unit-paths.js'
import { cachedUnitFiles } from './unit-files-cache.js'
import { heldUnitDiagnostic, type HeldUnitName } from './secret-names.js'
import { dirnameOf } from './unit-paths.js'

const SECTIONS_CACHE_KEY = 'install-sections-v1'
type ParsedSections = Map<string, { signature: string; install: InstallSection }>

/**
 * Read the units of the target: enablement and presets from the unit directories (the fast
 * path), runtime states from the running manager when there is one, and what starts at boot.
 */
export async function collectSystemdState(ctx: ProviderContext): Promise<{ state: SystemdState; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = []
  const { units, startup, held } = await cachedUnitFiles(ctx.host, ctx.cache, (host) => unitFileState({ ...ctx, host }))
  const state: SystemdState = { units, startup }
  appendAll(diagnostics, held.map((h) => heldUnitDiagnostic(h)))
  if (await managerRuns(ctx.host)) {
    try {
      // The unit files' names are answered already (secret-names.ts): only the manager's others are asked.
      const runtime = await collectRuntime(ctx.host)
      const heldNames = new Set(held.map((h) => h.name))
      for (const name of heldNames) delete runtime[name]
      for (const [name, rule] of await secretRulesInNames(Object.keys(runtime).filter((n) => units[n] === undefined))) {
        delete runtime[name]
        diagnostics.push(heldUnitDiagnostic({ rule }))
      }
      state.runtime = withUnloadedUnits(runtime, Object.entries(units).map(([name, entry]) => ({ name, state: entry.state })))
    } catch (error) {
      diagnostics.push(warningDiagnostic('SYSTEMD_RUNTIME_UNREADABLE', 'Could not read the runtime state of units', { detail: (error as Error).message, provider: 'systemd' }))
    }
    if (state.runtime !== undefined) {
      try {
        await addConfigDrift(ctx.host, state.runtime, ctx.cache)
      } catch (error) {
        diagnostics.push(
          warningDiagnostic('SYSTEMD_CONFIG_AGE_UNKNOWN', 'Could not tell whether running services run their current configuration', { detail: (error as Error).message, provider: 'systemd' }),
        )
      }
    }
  }
  return { state, diagnostics }
}

/**
 * The hash of an administrator's unit file recorded in the twin. A unit file with a secret
 * (`Environment=DB_PASSWORD=…`, a password on `ExecStart=`) is hashed with its secrets redacted:
 * the files provider keeps such a file out and records only a keyed hash, and a plain sha256 of
 * the whole file in units.json would let anyone holding the twin test guesses of the password
 * offline (the rest of the file is often known: an earlier snapshot mirrored it). Only a change
 * outside the secret then changes the hash; the twin cannot write such a file anyway.
 */
export async function unitFileHash(bytes: Uint8Array, path: string): Promise<string> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  const redacted = await redactSecrets(text, { path })
  if (redacted === text) return 'sha256:' + createHash('sha256').update(bytes).digest('hex')
  return 'sha256-redacted:' + createHash('sha256').update(redacted, 'latin1').digest('hex')
}

/** The unit files' part of the state, and the units held out of it by their names (kept with it in the cache). */
type UnitFilePart = Pick<SystemdState, 'units' | 'startup'> & { held: Array<HeldUnitName & { name: string }> }

/**
 * Enablement, presets and hashes of the unit files, and what starts at boot: read from the unit
 * directories alone (cached, see unit-files-cache.ts). A unit whose name holds a secret is left
 * out of all of it (secret-names.ts).
 */
async function unitFileState(ctx: Pick<ProviderContext, 'host' | 'cache'>): Promise<UnitFilePart> {
  const cached = await ctx.cache.read(SECTIONS_CACHE_KEY).catch(() => undefined)
  const index = new UnitFileIndex(ctx.host, parseSections(cached))
  const files = await index.list()
  await writeSections(ctx, index.parsedSections(), cached)

  const found = await defaultTargetOf(index, (path) => ctx.host.readlink(path).catch(() => undefined))
  const where = new Map<string, string>()
  const wanted = await unitsWantedAtBoot(index, found, where)
  const rules = await secretRulesInNames([...files.map((u) => u.name), ...wanted, ...(found === undefined ? [] : [found])])
  const held = new Map<string, HeldUnitName & { name: string }>()
  const holds = (name: string, folder: string | undefined): boolean => {
    const rule = rules.get(name)
    if (rule !== undefined && !held.has(name)) held.set(name, { name, rule, ...(folder === undefined ? {} : { folder }) })
    return rule !== undefined
  }
  const units: Record<string, UnitEntry> = {}
  for (const unit of files) {
    if (holds(unit.name, dirnameOf(unit.path))) continue
    const entry: UnitEntry = { state: unit.state }
    if (unit.preset !== undefined) entry.preset = unit.preset
    // An administrator's own unit file: its content decides whether a daemon-reload is due.
    if (unit.path.startsWith(PERSISTENT_CONFIG + '/') && (await ctx.host.lstat(unit.path))?.type === 'file') {
      entry.hash = await unitFileHash(await ctx.host.readFile(unit.path), unit.path)
    }
    units[unit.name] = entry
  }

  const defaultTarget = found === undefined || holds(found, PERSISTENT_CONFIG) ? undefined : found
  const wantedAtBoot = wanted.filter((name) => !holds(name, where.get(name)))
  return {
    units,
    startup: {
      ...(defaultTarget === undefined ? {} : { defaultTarget }),
      wantedAtBoot,
      enabledTimers: files.filter((u) => !held.has(u.name) && u.name.endsWith('.timer') && (u.state === 'enabled' || u.state === 'enabled-runtime')).map((u) => u.name).sort(compareStrings),
    },
    held: [...held.values()],
  }
}

function parseSections(text: string | undefined): ParsedSections {
  if (text === undefined) return new Map()
  try {
    return new Map(JSON.parse(text) as Array<[string, { signature: string; install: InstallSection }]>)
  } catch {
    return new Map() // a damaged cache only costs speed
  }
}

/** Write the parsed sections back, only when they differ from what was read (no write, no fsync, on an unchanged machine). */
async function writeSections(ctx: Pick<ProviderContext, 'cache'>, sections: ParsedSections, previous: string | undefined): Promise<void> {
  const entries = [...sections.entries()].sort(([a], [b]) => compareStrings(a, b))
  const text = JSON.stringify(entries)
  if (text === previous) return
  await ctx.cache.write(SECTIONS_CACHE_KEY, text).catch(() => undefined)
}
