import type { Static, TSchema } from 'typebox'
import {
  errorDiagnostic,
  MadeDocuments,
  validatorOf,
  warningDiagnostic,
  type Diagnostic,
  type ApplicableProvider,
  type ApplyRequest,
  type ApplyResult,
  type CollectRequest,
  type CollectResult,
  type DetectRequest,
  type DetectResult,
  type DiffRequest,
  type ObserveRequest,
  type UnappliedPlace,
  type UnappliedRequest,
  type DiffResult,
  type LoadRequest,
  type LoadResult,
  type OverLimitRequest,
  twinsyncLines,
  type TwinsyncLine,
} from '@twinsync/sdk'
import { toStep, applyAptChanges } from './apply.js'
import { refusedChanges, throughLinkedEnablementFolder, type ScopeRequest } from '@twinsync/sdk'
import { DPKG_STATUS } from './collect.js'
import { aptInputs, aptToken, cachedAptState } from './state-cache.js'
import { keptAptCollect, rememberAptNotes } from './kept-collect.js'
import { diffAptState, observeAptState } from './diff.js'
import { unappliedAptPlaces } from './unapplied.js'
import { APT_PINS_DOCUMENT, AptPins, withPins } from './pins.js'
import { APT_DOCUMENT, AptState } from './state.js'
import { APT_CODES } from './codes.js'

/** Debian packages: what is installed, manual or automatic, held; installed and removed through apt-get. */
export class AptProvider implements ApplicableProvider<AptState> {
  readonly name = 'apt'
  readonly version = '0.1.0'
  readonly category = 'packages' as const
  readonly description = 'Installed Debian packages (dpkg/apt): versions, manual or automatic marks, holds'
  // Not APT_PINS_DOCUMENT: a person owns the pins, and a snapshot removes the files a provider owns but did not collect.
  readonly twinPaths = [APT_DOCUMENT] as const
  /** Its own codes, with what each means (codes.ts): `twinsync providers --codes` and `describe` list them. */
  readonly codes = APT_CODES
  readonly inputPaths = [APT_PINS_DOCUMENT] as const
  /** Built when first read (lazySchema): a snapshot never checks its state against it. */
  get stateSchema() {
    return AptState()
  }
  /** apt.json as this provider's last collect made it: load checks no schema for the same text (MadeDocuments). */
  private readonly made = new MadeDocuments()

  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    const status = await ctx.host.stat(DPKG_STATUS)
    return status?.type === 'file'
      ? { detected: true, reason: `dpkg database at ${DPKG_STATUS}`, diagnostics: [] }
      : { detected: false, reason: `no ${DPKG_STATUS} on the target`, diagnostics: [] }
  }

  async collect({ ctx, since }: CollectRequest): Promise<CollectResult<AptState>> {
    const inputs = await aptInputs(ctx, Date.now())
    // A snapshot that handed back the token of apt.json as HEAD holds it, inputs unmoved: kept, not made (kept-collect.ts).
    const kept = await keptAptCollect(ctx.cache, since, inputs)
    if (kept !== undefined) return kept
    const { state, diagnostics, document } = await cachedAptState(ctx, Date.now(), inputs)
    const token = aptToken(inputs)
    if (token !== undefined) await rememberAptNotes(ctx.cache, token, diagnostics)
    return { state, documents: this.made.remember([{ path: APT_DOCUMENT, content: document }]), diagnostics, ...(token === undefined ? {} : { token }) }
  }

  /** apt.json with the person's pins (apt-pins.json) laid over it. */
  async load({ twin, ctx }: LoadRequest): Promise<LoadResult<AptState>> {
    const line = twinsyncLines(ctx)
    const text = await twin.readText(APT_DOCUMENT)
    if (text === undefined) return { state: undefined, diagnostics: [] }
    const parsed = parseDocument(APT_DOCUMENT, text, AptState, line, this.made.made(APT_DOCUMENT, text))
    if ('problem' in parsed) return { state: undefined, diagnostics: [parsed.problem] }
    const diagnostics: Diagnostic[] = []
    for (const [pkg, entry] of Object.entries(parsed.value.packages)) {
      if (entry.pinVersion === true) {
        diagnostics.push(
          warningDiagnostic('APT_PIN_IN_SNAPSHOT', `${pkg} has "pinVersion" in ${APT_DOCUMENT}, which the next snapshot rewrites without it`, {
            detail: `Pin it in ${APT_PINS_DOCUMENT} instead: { "pins": { "${pkg}": "${entry.version}" } }`,
            path: pkg,
            provider: 'apt',
          }),
        )
      }
    }
    const pinsText = await twin.readText(APT_PINS_DOCUMENT)
    if (pinsText === undefined) return { state: parsed.value, diagnostics }
    const pins = parseDocument(APT_PINS_DOCUMENT, pinsText, AptPins, line)
    if ('problem' in pins) return { state: undefined, diagnostics: [...diagnostics, pins.problem] }
    const pinned = withPins(parsed.value, pins.value)
    return { state: pinned.state, diagnostics: [...diagnostics, ...pinned.diagnostics] }
  }

  /** apt.json or apt-pins.json over MAX_APT_PACKAGES, by the count load refuses on (overPackageLimit): a pull asks it of the mirror's twin. */
  async overLimit({ twin, ctx }: OverLimitRequest): Promise<Diagnostic[]> {
    const found: Diagnostic[] = []
    for (const path of [APT_DOCUMENT, APT_PINS_DOCUMENT]) {
      const text = await twin.readText(path)
      if (text === undefined) continue
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        continue
      }
      const over = overPackageLimit(path, parsed, twinsyncLines(ctx))
      if (over !== undefined) found.push(over)
    }
    return found
  }

  diff({ desired, actual }: DiffRequest<AptState>): DiffResult {
    return diffAptState(desired, actual)
  }

  /** What an edit of apt.json asks for that the plan does not apply (an unpinned version…): kept pending, said. */
  unapplied({ desired, actual, changes }: UnappliedRequest<AptState>): UnappliedPlace[] {
    return unappliedAptPlaces(desired, actual, changes)
  }

  observe({ before, after }: ObserveRequest<AptState>): DiffResult {
    return observeAptState(before, after)
  }

  /** A change apply would refuse (a name that is not a package's, an unknown operation): never planned, a plan holding one refused whole. */
  async outOfScope({ changes, ctx }: ScopeRequest): Promise<Diagnostic[]> {
    const refused = refusedChanges(this.name, changes, toStep, twinsyncLines(ctx))
    // An install or removal runs the packages' scripts (update-rc.d): left out when the host port would refuse apt-get.
    const named = new Set(refused.map((d) => d.change))
    const writing = changes.filter((c) => !named.has(c.id) && (c.operation === 'install' || c.operation === 'remove'))
    return [...refused, ...(await throughLinkedEnablementFolder(this.name, ctx.host, writing))]
  }

  apply({ changes, ctx, onResult, changedNeeds }: ApplyRequest): Promise<ApplyResult> {
    return applyAptChanges(changes, ctx, onResult, changedNeeds)
  }
}

/**
 * The most packages apt.json (or pins apt-pins.json) may list, unless it is the text this
 * provider's collect just made. The twin is untrusted input: a pulled apt.json of 50,000 made-up
 * packages made `plan` take 9 s on the test bed's root (loaded machine, session 37), one of
 * 150,000 (about 13 MB, under the 64 MiB document limit) ended it in "internal error: Maximum call
 * stack size exceeded". Real machines hold far fewer: the test bed's roots a few hundred, the
 * bench's scale root 5,000; Debian's whole archive is about 64,000 binary packages an
 * architecture, and no machine installs all of them (many conflict).
 */
export const MAX_APT_PACKAGES = 50_000

/**
 * TWIN_INVALID when apt.json's packages (or apt-pins.json's pins) number more than
 * MAX_APT_PACKAGES, counted on the parsed JSON before any schema check: the one rule load and
 * overLimit (a pull) both ask.
 */
function overPackageLimit(path: string, parsed: unknown, line: TwinsyncLine): Diagnostic | undefined {
  const listed = (parsed as { packages?: unknown; pins?: unknown } | null)?.[path === APT_DOCUMENT ? 'packages' : 'pins']
  const count = listed !== null && typeof listed === 'object' ? Object.keys(listed).length : 0
  if (count <= MAX_APT_PACKAGES) return undefined
  return errorDiagnostic('TWIN_INVALID', `${path} lists ${count.toLocaleString('en')} packages, more than the ${MAX_APT_PACKAGES.toLocaleString('en')} TwinSync takes; it was not read`, {
    path,
    provider: 'apt',
    detail: `Nothing of packages is planned. Remove the added packages from the twin, or go back to the last snapshot's with \`${line(['discard', 'packages'])}\` (drops every pending package edit).`,
  })
}

/**
 * A twin document parsed and checked against its schema (built when needed: lazySchema), or the
 * diagnostic that says why not; `made`: the text is what this provider's collect just made (its
 * test checks that passes the schema).
 */
function parseDocument<T extends TSchema>(
  path: string,
  text: string,
  schema: () => T,
  line: TwinsyncLine,
  made = false,
): { value: Static<T> } | { problem: Diagnostic } {
  const invalid = (what: string, detail?: string) => ({ problem: errorDiagnostic('TWIN_INVALID', `${path} ${what}`, { path, provider: 'apt', ...(detail === undefined ? {} : { detail }) }) })
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return invalid(`is not valid JSON: ${(error as Error).message}`)
  }
  if (made) return { value: parsed as Static<T> }
  // Counted before the schema check walks every package (MAX_APT_PACKAGES).
  const over = overPackageLimit(path, parsed, line)
  if (over !== undefined) return { problem: over }
  const validator = validatorOf(schema())
  if (!validator.Check(parsed)) {
    const first = [...validator.Errors(parsed)][0]
    return invalid(`does not match its schema at ${first?.instancePath || '/'}: ${first?.message ?? ''}`)
  }
  return { value: parsed as Static<T> }
}
