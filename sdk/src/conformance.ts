import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Value } from 'typebox/value'
import type { ProviderContext } from './context.js'
import { CATEGORIES, Change, type ChangeResult } from './change.js'
import { isTwinSyncError } from './errors.js'
import type { HostPort } from './host.js'
import { MemoryTwin } from './memory-twin.js'
import { isApplicable, type ApplicableProvider, type Provider } from './provider.js'
import { providerCodes } from './provider-codes.js'
import { stableStringify } from './stable-json.js'
import { createTestContext } from './test-context.js'
import { machinePathOf, type TwinDocument } from './twin-document.js'

export interface ConformanceOptions {
  /**
   * Make a desired state that differs from the machine: given the collected documents, return
   * documents to lay over them (same path: replaced). The kit plans them and checks every
   * change against the change schema. Without it, only collect, load and an empty diff are checked.
   */
  edit?: (documents: readonly TwinDocument[]) => TwinDocument[]
  /**
   * Also apply the planned changes to the target (a disposable test root!), then check that a
   * new collect gives an empty diff and that applying the same changes again reports every one
   * `unchanged`. Needs `edit`.
   */
  apply?: boolean
  /**
   * A name that must never reach a program or the file system. Default: an option-looking,
   * shell-looking string. The kit puts it into a twin document (via `hostileEdit`) and into a
   * planned change, and checks that load/diff report an error and apply refuses before it runs
   * anything.
   */
  hostileName?: string
  /** Put the hostile name into the collected documents where your domain reads a name. */
  hostileEdit?: (documents: readonly TwinDocument[], name: string) => TwinDocument[]
  /**
   * Documents to lay over the collected ones that ask for something outside what your provider
   * manages on the test root (a path outside your claims or include set, one you ignore). The
   * twin is untrusted: the kit plans them and checks that `outOfScope` names every change they
   * give (so the host leaves it out of the plan and refuses a plan holding it) and that `apply`
   * refuses such a change before it touches anything.
   */
  outsideEdit?: (documents: readonly TwinDocument[]) => TwinDocument[]
}

/** Where the kit's forged change points: no provider manages it on a test root. */
const OUTSIDE_DIR = '/twinsync-conformance-outside'

const HOSTILE = '-rf; touch /tmp/twinsync-pwned $(id) `id` ../../etc'

/**
 * The conformance kit: the promises every provider makes to the host, checked against a real
 * target. A plugin author calls it from their own tests with a context over a test root:
 *
 *     const problems = await checkConformance(provider, createTestContext(rootDir), { edit, apply: true })
 *     assert.deepEqual(problems, [])
 *
 * It returns the broken promises as sentences that say what to fix; an empty list means the
 * provider conforms.
 */
export async function checkConformance(provider: Provider, ctx: ProviderContext, options: ConformanceOptions = {}): Promise<string[]> {
  const problems: string[] = []
  if (!/^[a-z][a-z0-9-]*$/.test(provider.name)) problems.push(`name "${provider.name}" must be lower case letters, digits and dashes (it is also the config file key)`)
  if (!/^\d+\.\d+\.\d+/.test(provider.version)) problems.push(`version "${provider.version}" is not a semantic version: use "1.0.0"`)
  if (!CATEGORIES.includes(provider.category)) problems.push(`category "${provider.category}" is not one of ${CATEGORIES.join(', ')}`)
  for (const claim of provider.claims ?? []) ctx.claims.claim(provider.name, claim)
  // A described part of a document the provider does not write would never be judged (TwinSync reads descriptions of its owner's documents only).
  for (const part of provider.describes ?? []) {
    if (!provider.twinPaths.some((p) => (p.endsWith('/') ? part.path.startsWith(p) : part.path === p))) problems.push(`describes names ${part.path}, which is outside the provider's twinPaths (${provider.twinPaths.join(', ')}): describe only your own documents`)
    if (part.appliedFrom.trim() === '') problems.push(`describes ${part.path} with an empty appliedFrom: say where the real thing lives, for a person`)
  }
  // The host's rule (providerCodes): a code TwinSync would not list is found here, not on a user's machine.
  for (const problem of providerCodes(provider).problems) problems.push(`codes: ${problem}`)

  await checkUndetectedRoot(provider, problems)

  const detected = await attempt(problems, 'detect()', () => provider.detect({ ctx }))
  if (detected === undefined) return problems
  if (typeof detected.detected !== 'boolean' || !Array.isArray(detected.diagnostics)) {
    problems.push('detect() must return { detected: boolean, reason?: string, diagnostics: [] }')
  }
  if (!detected.detected) {
    problems.push(`detect() says the domain is absent on the test root (${detected.reason ?? 'no reason given'}): give the kit a root where it is present`)
    return problems
  }

  const before = ctx.host.live ? undefined : await treeOf(ctx.host.root)
  const watched = watchedHost(ctx.host)
  const first = await attempt(problems, 'collect()', () => provider.collect({ ctx: { ...ctx, host: watched.host } }))
  if (watched.calls.length > 0) {
    problems.push(`collect() called ${watched.calls.slice(0, 3).join(', ')}: collect only reads; run read-only programs with ctx.host.query, which a dry run can pass through`)
  }
  const second = await attempt(problems, 'collect() (second run)', () => provider.collect({ ctx }))
  if (first === undefined || second === undefined) return problems
  if (before !== undefined) {
    const moved = treeChanges(before, await treeOf(ctx.host.root))
    if (moved.length > 0) {
      problems.push(`collect() changed the target (${moved.slice(0, 5).join(', ')}${moved.length > 5 ? ', …' : ''}): collect must only read; keep logs, caches and lock files out of the target (use ctx.cache)`)
    }
  }
  if (!sameDocuments(first.documents, second.documents)) {
    problems.push('collect() is not deterministic: two collects of the same target gave different documents; sort lists by a meaningful key and keep timestamps, PIDs and counters out of the state')
  }
  if (provider.stateSchema !== undefined && !Value.Check(provider.stateSchema, first.state)) {
    const error = [...Value.Errors(provider.stateSchema, first.state)][0]
    problems.push(`collect() state does not match stateSchema at ${error?.instancePath || '/'}: ${error?.message}; fix the state or the schema`)
  }
  const paths = first.documents.map((d) => d.path)
  if (new Set(paths).size !== paths.length) problems.push('collect() returned two documents with the same path')
  for (const doc of first.documents) {
    const problem = documentProblem(provider, ctx, doc)
    if (problem !== undefined) problems.push(problem)
  }

  if (!isApplicable(provider)) return problems
  const loaded = await attempt(problems, 'load()', () => provider.load({ ctx, twin: new MemoryTwin(first.documents) }))
  if (loaded === undefined) return problems
  if (loaded.state === undefined) {
    problems.push('load() found no state in the documents collect() just wrote: load must read back exactly what collect writes')
    return problems
  }
  const same = await attempt(problems, 'diff()', async () => provider.diff({ desired: loaded.state, actual: first.state, ctx }))
  if (same !== undefined && same.changes.length > 0) {
    problems.push(`diff(load(collect()), collect()) is not empty (${same.changes.map((c) => c.id).join(', ')}): an unchanged machine must plan nothing`)
  }
  // An unchanged twin asks for nothing, so nothing of it can be left out; a place must be in the provider's own documents.
  if (provider.unapplied !== undefined && same !== undefined) {
    const places = await attempt(problems, 'unapplied()', async () => (provider.unapplied as NonNullable<typeof provider.unapplied>)({ desired: loaded.state, actual: first.state, changes: same.changes, ctx }))
    if (places !== undefined && (!Array.isArray(places) || places.length > 0)) {
      problems.push(`unapplied() of an unchanged twin names places (${Array.isArray(places) ? places.map((p) => `${p.path}#${p.at.map((s) => (typeof s === 'string' ? s : `${s.field}=${s.value}`)).join('/')}`).join(', ') : 'not a list'}): name only where the twin asks for something the plan leaves out`)
    }
  }

  if (options.edit === undefined) {
    await checkScope(provider, ctx, first.documents, first.state, [], options, problems)
    return problems
  }
  const desiredDocs = overlay(first.documents, options.edit(first.documents))
  const changes = await planned(provider, ctx, desiredDocs, first.state, problems)
  if (changes === undefined) return problems
  if (changes.length === 0) problems.push('the edited documents planned no change: make `edit` change something your diff acts on')
  checkChanges(provider, changes, problems)
  const replanned = await planned(provider, ctx, desiredDocs, first.state, [])
  if (replanned !== undefined && stableStringify(replanned) !== stableStringify(changes)) {
    const ids = (list: readonly Change[]) => list.map((c) => c.id).join(', ')
    problems.push(`planning the same twin twice gave different changes (${ids(changes)} / ${ids(replanned)}): ids, order and data must follow from the twin and the machine alone (sort, no timestamps or counters)`)
  }

  await checkHostile(provider, ctx, first.documents, first.state, changes, options, problems)
  await checkScope(provider, ctx, first.documents, first.state, changes, options, problems)

  if (options.apply !== true || changes.length === 0 || problems.length > 0) return problems
  const applied = await attempt(problems, 'apply()', () => provider.apply({ changes, ctx }))
  if (applied === undefined) return problems
  checkResults(changes, applied.results, ['applied', 'unchanged'], 'apply()', problems)
  const after = await attempt(problems, 'collect() after apply', () => provider.collect({ ctx }))
  if (after === undefined) return problems
  const rest = await attempt(problems, 'diff() after apply', async () => {
    const desired = await provider.load({ ctx, twin: new MemoryTwin(desiredDocs) })
    return provider.diff({ desired: desired.state, actual: after.state, ctx })
  })
  if (rest !== undefined && rest.changes.length > 0) {
    problems.push(`after apply, a new collect still differs from the twin (${rest.changes.map((c) => c.id).join(', ')}): apply must bring the machine to what diff planned, and collect must see it`)
  }
  const settled = ctx.host.live ? undefined : await treeOf(ctx.host.root)
  const again = await attempt(problems, 'apply() a second time', () => provider.apply({ changes, ctx }))
  if (again !== undefined) checkResults(changes, again.results, ['unchanged'], 'applying the same changes twice', problems)
  if (settled !== undefined) {
    const moved = treeChanges(settled, await treeOf(ctx.host.root))
    if (moved.length > 0) {
      problems.push(`applying the same changes a second time changed the target (${moved.slice(0, 5).join(', ')}${moved.length > 5 ? ', …' : ''}): a change already in place must leave the machine as it is`)
    }
  }
  return problems
}

/** detect() on an empty root must answer (usually "not detected"), never throw; if it says yes, collect must not throw there. */
async function checkUndetectedRoot(provider: Provider, problems: string[]): Promise<void> {
  const empty = await mkdtemp(join(tmpdir(), 'twinsync-conformance-'))
  try {
    const ctx = createTestContext(empty, { providers: [provider] })
    const d = await attempt(problems, 'detect() on an empty root', () => provider.detect({ ctx }), 'return { detected: false, reason } when the domain is absent')
    if (d?.detected === true) await attempt(problems, 'collect() on an empty root (detect said yes)', () => provider.collect({ ctx }), 'say detected: false, or collect an empty state')
  } finally {
    await rm(empty, { recursive: true, force: true })
  }
}

async function planned(provider: ApplicableProvider, ctx: ProviderContext, docs: TwinDocument[], actual: unknown, problems: string[]): Promise<Change[] | undefined> {
  const desired = await attempt(problems, 'load() of the edited documents', () => provider.load({ ctx, twin: new MemoryTwin(docs) }))
  if (desired?.state === undefined) {
    if (desired !== undefined) problems.push(`load() of the edited documents gave no state: ${desired.diagnostics.map((d) => d.summary).join('; ') || 'no diagnostic'}`)
    return undefined
  }
  const diff = await attempt(problems, 'diff() of the edited documents', async () => provider.diff({ desired: desired.state, actual, ctx }))
  if (diff !== undefined && provider.unapplied !== undefined) {
    const state = desired.state
    const places = await attempt(problems, 'unapplied() of the edited documents', async () => (provider.unapplied as NonNullable<typeof provider.unapplied>)({ desired: state, actual, changes: diff.changes, ctx }))
    const own = [...provider.twinPaths, ...(provider.inputPaths ?? [])]
    for (const place of Array.isArray(places) ? places : []) {
      if (!own.some((p) => (p.endsWith('/') ? place.path.startsWith(p) : place.path === p))) problems.push(`unapplied() names ${place.path}, which is outside the provider's twinPaths (${own.join(', ')}): name places of your own documents (TwinSync ignores the others)`)
      if (typeof place.nextStep !== 'string' || place.nextStep.trim() === '') problems.push(`unapplied() names ${place.path} without a nextStep: say why the value is not applied and what to do instead, for a person`)
    }
  }
  return diff?.changes
}

function checkChanges(provider: Provider, changes: readonly Change[], problems: string[]): void {
  const ids = new Set<string>()
  for (const c of changes) {
    if (!Value.Check(Change, c)) {
      const error = [...Value.Errors(Change, c)][0]
      problems.push(`change ${JSON.stringify((c as { id?: unknown }).id)} does not match the change schema at ${error?.instancePath || '/'}: ${error?.message} (every change needs id, provider, category, operation, resource, summary, risk; no other top-level keys: put your own fields in data)`)
      continue
    }
    if (c.provider !== provider.name) problems.push(`change ${c.id} has provider "${c.provider}": set it to "${provider.name}", or apply cannot find your provider`)
    if (!c.id.startsWith(`${provider.name}:`) || /[\u0000-\u001f\u007f]/.test(c.id) || /[\u0000-\u001f\u007f]/.test(c.resource)) {
      problems.push(`change id ${JSON.stringify(c.id)} (resource ${JSON.stringify(c.resource)}) is not a valid id: write "${provider.name}:<operation>:<resource>", with no control characters in the id or the resource`)
    }
    if (ids.has(c.id)) problems.push(`two changes have the id ${c.id}: ids must be unique in a plan ("${provider.name}:<operation>:<resource>")`)
    ids.add(c.id)
    if (c.removal === true && c.risk !== 'high') problems.push(`change ${c.id} is a removal with risk "${c.risk}": anything that removes or deletes is "high"`)
  }
  for (const c of changes) {
    for (const r of c.requires ?? []) if (!ids.has(r)) problems.push(`change ${c.id} requires ${r}, which your diff did not plan`)
  }
}

function checkResults(changes: readonly Change[], results: readonly ChangeResult[], allowed: readonly string[], what: string, problems: string[]): void {
  for (const c of changes) {
    const r = results.find((x) => x.id === c.id)
    if (r === undefined) problems.push(`${what} returned no result for ${c.id}: return one result per change`)
    else if (!allowed.includes(r.status)) problems.push(`${what}: ${c.id} is ${r.status}${r.message ? ` (${r.message})` : ''}, expected ${allowed.join(' or ')}${allowed.length === 1 ? ': report a change already in place as unchanged' : ''}`)
  }
}

/**
 * A hostile name in the twin must become an error diagnostic, not a change; in a (forged)
 * change, apply must refuse it before running any program or touching any file.
 */
async function checkHostile(
  provider: ApplicableProvider,
  ctx: ProviderContext,
  collected: readonly TwinDocument[],
  actual: unknown,
  changes: readonly Change[],
  options: ConformanceOptions,
  problems: string[],
): Promise<void> {
  const name = options.hostileName ?? HOSTILE
  if (options.hostileEdit !== undefined) {
    const docs = overlay(collected, options.hostileEdit(collected, name))
    let loaded: Awaited<ReturnType<ApplicableProvider['load']>> | undefined
    try {
      loaded = await provider.load({ ctx, twin: new MemoryTwin(docs) })
    } catch (error) {
      // A TwinSyncError (NAME_INVALID) is a refusal; anything else is a crash on untrusted input.
      if (!isTwinSyncError(error)) problems.push(`load() of a twin with the hostile name threw ${String(error)}: return an error diagnostic (NAME_INVALID) or throw TwinSyncError`)
    }
    if (loaded?.state !== undefined) {
      const diff = provider.diff({ desired: loaded.state, actual, ctx })
      const leaked = diff.changes.filter((c) => JSON.stringify(c).includes(JSON.stringify(name).slice(1, -1)))
      const refused = [...loaded.diagnostics, ...diff.diagnostics].some((d) => d.severity === 'error')
      if (leaked.length > 0) problems.push(`the hostile name ${JSON.stringify(name)} reached a planned change (${leaked.map((c) => c.id).join(', ')}): check names against your domain's grammar in diff and report NAME_INVALID instead`)
      if (!refused) problems.push(`a twin with the hostile name ${JSON.stringify(name)} gave no error diagnostic: report it with errorDiagnostic('NAME_INVALID', …)`)
    } else if (loaded !== undefined && !loaded.diagnostics.some((d) => d.severity === 'error')) {
      problems.push(`load() of a twin with the hostile name gave no state and no error diagnostic: report it with errorDiagnostic('NAME_INVALID', …)`)
    }
  }
  const sample = changes[0]
  if (sample === undefined) return
  const forged = { ...sample, resource: name, data: replaceStrings(sample.data, sample.resource, name) }
  const { host, touched } = guardedHost(ctx.host)
  let threw = false
  let results: readonly ChangeResult[] = []
  try {
    results = (await provider.apply({ changes: [forged], ctx: { ...ctx, host } })).results
  } catch {
    threw = true
  }
  if (touched.length > 0) {
    problems.push(`apply() of a change naming ${JSON.stringify(name)} called ${touched.slice(0, 3).join(', ')} before refusing it: check every name from a change before the first program runs`)
  } else if (!threw && results.find((r) => r.id === forged.id)?.status !== 'failed') {
    problems.push(`apply() accepted a change naming ${JSON.stringify(name)}: refuse it (throw TwinSyncError('NAME_INVALID', …) or report it failed)`)
  }
}

/**
 * The twin may ask for anything: what lies outside what the provider manages must be named by
 * its `outOfScope` (the host then leaves it out of the plan, and refuses a plan holding it) and
 * refused by its `apply`. Checked: outOfScope leaves the provider's own plan alone and names
 * each change it flags, with a next step; the author's `outsideEdit` asks are named and refused;
 * a change of the provider's own moved to a path outside its claims (or, with outOfScope, to a
 * made-up top folder) is named and refused.
 */
async function checkScope(
  provider: ApplicableProvider,
  ctx: ProviderContext,
  collected: readonly TwinDocument[],
  actual: unknown,
  own: readonly Change[],
  options: ConformanceOptions,
  problems: string[],
): Promise<void> {
  const scope = provider.outOfScope?.bind(provider)
  const ask = async (changes: readonly Change[]): Promise<Set<string> | undefined> => {
    if (scope === undefined || changes.length === 0) return new Set()
    const said = await attempt(problems, 'outOfScope()', () => scope({ changes, ctx }))
    if (said === undefined) return undefined
    const asked = new Set(changes.map((c) => c.id))
    for (const d of said) {
      if (d.change === undefined || !asked.has(d.change)) {
        problems.push(`outOfScope() returned a diagnostic that names no change it was asked about (${d.code}: ${d.summary}): set change to the id of the change it concerns; the host leaves out only changes named that way`)
      } else if (d.severity !== 'warning' || d.detail === undefined || d.detail === '') {
        problems.push(`outOfScope()'s diagnostic for ${d.change} must be a warning with a next step in detail (what to do if it was meant): the plan shows it beside the change it leaves out`)
      }
    }
    return new Set(said.flatMap((d) => (d.change === undefined ? [] : [d.change])))
  }
  if (own.length > 0) {
    const flagged = await ask(own)
    const mine = own.filter((c) => flagged?.has(c.id) === true)
    if (mine.length > 0) {
      problems.push(`outOfScope() names changes your own diff planned from the edited twin (${mine.map((c) => c.id).join(', ')}): what diff plans on this machine must be in scope, or the host leaves it out of every plan`)
    }
  }

  // The asks outside the scope: the author's, then the kit's own forged one.
  const outside: Change[] = []
  if (options.outsideEdit !== undefined) {
    const docs = overlay(collected, options.outsideEdit(collected))
    const loaded = await attempt(problems, 'load() of the outsideEdit documents', () => provider.load({ ctx, twin: new MemoryTwin(docs) }))
    const diff = loaded?.state === undefined ? undefined : await attempt(problems, 'diff() of the outsideEdit documents', async () => provider.diff({ desired: loaded.state, actual, ctx }))
    if (diff !== undefined) {
      if (diff.changes.length === 0 && ![...(loaded?.diagnostics ?? []), ...diff.diagnostics].some((d) => d.severity !== 'info')) {
        problems.push('the outsideEdit documents planned nothing and said nothing: a twin asking for something outside your scope must be named (outOfScope, or a warning from load or diff), never dropped silently')
      }
      if (diff.changes.length > 0 && scope === undefined) {
        problems.push(`the outsideEdit documents planned ${diff.changes.map((c) => c.id).join(', ')} and your provider has no outOfScope(): a twin asking for something outside what it manages is planned like any other change; implement outOfScope to name such changes (one warning each, change: its id, with a next step)`)
      }
      outside.push(...diff.changes)
    }
  }
  const forged = forgedOutside(provider, ctx, own[0], scope !== undefined)
  if (forged !== undefined) outside.push(forged)
  if (outside.length === 0) return
  if (scope !== undefined) {
    const flagged = await ask(outside)
    const missed = outside.filter((c) => flagged?.has(c.id) !== true)
    if (flagged !== undefined && missed.length > 0) {
      problems.push(`outOfScope() did not name ${missed.map((c) => `${c.id} (${c.resource})`).join(', ')}, outside what your provider manages: name every such change, or the host plans and applies it`)
    }
  }
  for (const change of outside) {
    const { host, touched } = guardedHost(ctx.host)
    let threw = false
    let results: readonly ChangeResult[] = []
    try {
      results = (await provider.apply({ changes: [change], ctx: { ...ctx, host } })).results
    } catch {
      threw = true
    }
    if (touched.length > 0) {
      problems.push(`apply() of ${change.id}, outside what your provider manages, called ${touched.slice(0, 3).join(', ')}: check each change against your scope in apply too, before the first program runs or file is written`)
    } else if (!threw && results.find((r) => r.id === change.id)?.status !== 'failed') {
      problems.push(`apply() accepted ${change.id}, outside what your provider manages: report it failed (or throw a TwinSyncError) without touching anything`)
    }
  }
}

/**
 * One of the provider's own changes moved to a path it does not manage: outside its claims, or
 * (for a provider that judges its scope with outOfScope) under a made-up top folder. Undefined
 * when the change names no machine path, or the provider has neither claims nor outOfScope.
 */
function forgedOutside(provider: Provider, ctx: ProviderContext, sample: Change | undefined, judges: boolean): Change | undefined {
  if (sample === undefined) return undefined
  const data = sample.data as { path?: unknown } | undefined
  const path = typeof data?.path === 'string' && data.path.startsWith('/') ? data.path : sample.resource.startsWith('/') ? sample.resource : undefined
  if (path === undefined) return undefined
  const moved = `${OUTSIDE_DIR}/${path.slice(path.lastIndexOf('/') + 1) || 'x'}`
  const claimed = (provider.claims ?? []).length > 0 && ctx.claims.ownerOf(path) === provider.name && ctx.claims.ownerOf(moved) !== provider.name
  if (!claimed && !judges) return undefined
  return { ...sample, id: sample.id.split(path).join(moved), resource: sample.resource.split(path).join(moved), data: replaceStrings(sample.data, path, moved) }
}

/** A host that refuses (and records) every program run (read-only ones too) and every write. */
function guardedHost(inner: HostPort): { host: HostPort; touched: string[] } {
  const touched: string[] = []
  const mutating = new Set(['exec', 'query', 'writeFileAtomic', 'mkdir', 'symlink', 'chmod', 'chown', 'setAttributes', 'remove', 'rmdir'])
  const host = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof prop === 'string' && mutating.has(prop)) {
        return async (...args: unknown[]) => {
          touched.push(`${prop}(${JSON.stringify(args[0])})`)
          throw new Error(`conformance kit: ${prop} blocked while a hostile name is being applied`)
        }
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
  return { host, touched }
}

/** A host that passes every call through and records the ones that may change the target. */
function watchedHost(inner: HostPort): { host: HostPort; calls: string[] } {
  const calls: string[] = []
  const changing = new Set(['exec', 'writeFileAtomic', 'mkdir', 'symlink', 'chmod', 'chown', 'setAttributes', 'remove', 'rmdir'])
  const host = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      const fn = (value as (...a: unknown[]) => unknown).bind(target)
      if (typeof prop !== 'string' || !changing.has(prop)) return fn
      return (...args: unknown[]) => {
        calls.push(`${prop}(${JSON.stringify(args[0])})`)
        return fn(...args)
      }
    },
  })
  return { host, calls }
}

function replaceStrings(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return value === from ? to : value
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, from, to))
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, from, to)]))
  return value
}

function overlay(base: readonly TwinDocument[], over: readonly TwinDocument[]): TwinDocument[] {
  const byPath = new Map(base.map((d) => [d.path, d]))
  for (const d of over) byPath.set(d.path, d)
  return [...byPath.values()]
}

async function attempt<T>(problems: string[], what: string, fn: () => Promise<T>, fix = 'return diagnostics for problems instead of throwing'): Promise<T | undefined> {
  try {
    return await fn()
  } catch (error) {
    problems.push(`${what} threw ${(error as Error)?.stack?.split('\n')[0] ?? String(error)}: ${fix}`)
    return undefined
  }
}

function documentProblem(provider: Provider, ctx: ProviderContext, doc: TwinDocument): string | undefined {
  if (doc.path.split('/').some((p) => p === '..' || p === '.' || p === '') || doc.path.startsWith('/')) {
    return `document path "${doc.path}" is not a clean relative path`
  }
  const machinePath = machinePathOf(doc.path)
  if (machinePath !== undefined) {
    const owner = ctx.claims.ownerOf(machinePath)
    if (owner !== provider.name) return `document ${doc.path} mirrors ${machinePath}, which belongs to ${owner}: claim the machine path (claims) or write under your twinPaths`
  } else if (!provider.twinPaths.some((p) => (p.endsWith('/') ? doc.path.startsWith(p) : doc.path === p))) {
    return `document ${doc.path} is outside the provider's twinPaths (${provider.twinPaths.join(', ')}): add it to twinPaths or write elsewhere`
  }
  if (doc.path.endsWith('.json') && typeof doc.content === 'string') {
    let parsed: unknown
    try {
      parsed = JSON.parse(doc.content)
    } catch {
      return `document ${doc.path} is not valid JSON`
    }
    if (stableStringify(parsed) !== doc.content) return `document ${doc.path} is not in stable form (sorted keys, two-space indent, final newline): write it with stableStringify(state)`
  }
  return undefined
}

function sameDocuments(a: readonly TwinDocument[], b: readonly TwinDocument[]): boolean {
  if (a.length !== b.length) return false
  if (a.some((d, i) => d.path !== b[i]?.path)) return false
  return a.every((d, i) => {
    const other = b[i] as TwinDocument
    return Boolean(other.executable) === Boolean(d.executable) && bytesEqual(d.content, other.content)
  })
}

function bytesEqual(x: string | Uint8Array, y: string | Uint8Array): boolean {
  return Buffer.from(x).equals(Buffer.from(y))
}

/**
 * Every entry under a test root with its type, mode, owner, link target and, for regular files,
 * a hash of the bytes: "byte-identical" means no entry added, removed or different in any of
 * these (times are not compared: a read-only open of a database may touch them). SQLite's
 * "-shm" files are left out: a shared-memory index any reader rewrites, with no persistent
 * content (an rpm database read by rpm or dnf rewrites it).
 */
async function treeOf(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
      const path = join(dir, e.name)
      if (e.name.endsWith('-shm')) continue
      const st = await lstat(path, { bigint: true }).catch(() => undefined)
      if (st === undefined) continue
      let body = ''
      if (st.isSymbolicLink()) body = await readlink(path).catch(() => '')
      else if (st.isFile()) {
        // Hashing a whole root for every check is slow: a file whose inode, size and times are
        // all the same as when it was hashed still has the same bytes.
        const key = `${path}\0${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
        body = hashes.get(key) ?? (await hashFile(path))
        hashes.set(key, body)
      }
      out.set(`${rel}/${e.name}`, `${st.mode}:${st.uid}:${st.gid}:${st.isFile() ? st.size : ''}:${body}`)
      if (st.isDirectory()) await walk(path, `${rel}/${e.name}`)
    }
  }
  await walk(root, '')
  return out
}

const hashes = new Map<string, string>()

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha1')
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  } catch {
    return 'unreadable'
  }
  return hash.digest('hex')
}

function treeChanges(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const out: string[] = []
  for (const [path, sig] of after) {
    const was = before.get(path)
    if (was === undefined) out.push(`created ${path}`)
    else if (was !== sig) out.push(`changed ${path}`)
  }
  for (const path of before.keys()) if (!after.has(path)) out.push(`removed ${path}`)
  return out.sort()
}
