import Type from 'typebox'
import { errorDiagnostic, lazySchema, warningDiagnostic, type Diagnostic } from '@twinsync/sdk'
import { isValidPackageName, isValidPackageVersion } from './name.js'
import type { AptState } from './state.js'

/**
 * Version pins, written by a person: `system/packages/apt-pins.json`. Collect cannot know which
 * versions a person wants pinned, so pins live apart from the collected `apt.json` and no
 * snapshot ever rewrites or removes them. The file is deliberately NOT in the provider's
 * twinPaths: a snapshot removes every file a provider owns but did not collect this time.
 */
export const APT_PINS_DOCUMENT = 'system/packages/apt-pins.json'

export const AptPins = lazySchema(() => Type.Object(
  {
    /** Package key (as in apt.json) → the exact version to install. */
    pins: Type.Record(Type.String(), Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
))
export type AptPins = Type.Static<ReturnType<typeof AptPins>>

/**
 * The desired state with the pins laid over it: a pinned package the twin lists gets the pin's
 * version and `pinVersion`, so the diff installs exactly that version. Pure.
 *
 * A pin never adds a package by itself (apt.json says what is installed); a pin of a package
 * apt.json does not list is reported and left alone, so removing a package from the twin is
 * never undone by a forgotten pin.
 */
export function withPins(state: AptState, pins: AptPins): { state: AptState; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const packages = { ...state.packages }
  for (const [pkg, version] of Object.entries(pins.pins).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const extra = { path: pkg, provider: 'apt' }
    if (!isValidPackageName(pkg)) {
      diagnostics.push(errorDiagnostic('NAME_INVALID', `${APT_PINS_DOCUMENT} pins an invalid package name: ${JSON.stringify(pkg)}`, extra))
      continue
    }
    if (!isValidPackageVersion(version)) {
      diagnostics.push(errorDiagnostic('NAME_INVALID', `${APT_PINS_DOCUMENT} pins ${pkg} to an invalid version: ${JSON.stringify(version)}`, extra))
      continue
    }
    const entry = packages[pkg]
    if (entry === undefined) {
      diagnostics.push(
        warningDiagnostic('APT_PIN_UNLISTED', `${APT_PINS_DOCUMENT} pins ${pkg} ${version}, which apt.json does not list; the pin is ignored`, {
          ...extra,
          detail: `Add ${pkg} to system/packages/apt.json to have it installed, or delete the pin.`,
        }),
      )
      continue
    }
    packages[pkg] = { ...entry, version, pinVersion: true }
  }
  return { state: { ...state, packages }, diagnostics }
}
