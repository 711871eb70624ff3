import { compareStrings, type Change, type UnappliedPlace } from '@twinsync/sdk'
import { APT_PINS_DOCUMENT } from './pins.js'
import { APT_DOCUMENT, type AptState } from './state.js'

/**
 * The places of apt.json where the twin (`desired`) asks for a value the plan (`changes`, from
 * diffAptState) does not apply, against the last snapshot (`actual`). Pure. Without them an
 * edit there settles silently: the plan is empty, and the next snapshot writes the machine's
 * value over it. Versions are not applied without a pin on purpose: every entry records the
 * installed version, so a twin taken elsewhere would otherwise move every package.
 */
export function unappliedAptPlaces(desired: AptState, actual: AptState, changes: readonly Change[]): UnappliedPlace[] {
  const places: UnappliedPlace[] = []
  const planned = new Set(changes.map((c) => c.resource))
  const at = (pkg: string, ...rest: string[]) => ['packages', pkg, ...rest]
  if (desired.nativeArchitecture !== actual.nativeArchitecture) {
    places.push({ path: APT_DOCUMENT, at: ['nativeArchitecture'], nextStep: 'The native architecture is the machine\'s (dpkg --print-architecture); no plan changes it' })
  }
  for (const pkg of Object.keys(desired.packages).sort(compareStrings)) {
    const want = desired.packages[pkg]
    const have = actual.packages[pkg]
    if (want === undefined) continue
    if (have === undefined) {
      // Automatically installed packages come with what needs them, never on their own.
      if (!want.manual && !planned.has(pkg)) {
        places.push({ path: APT_DOCUMENT, at: at(pkg), nextStep: `${pkg} is listed as automatically installed ("manual": false), which apt never installs on its own: set "manual": true to install it` })
      }
      // Installed, but not at that version: apt installs the archive's candidate. Named like an
      // installed package's version edit, so the apply undoes not the version with the install
      // (the snapshot after it recorded the archive's version over it, without a word: session
      // 40); pending after the apply only while the installed version is another one.
      if (want.manual && planned.has(pkg) && want.version !== undefined && want.pinVersion !== true) {
        places.push({ path: APT_DOCUMENT, at: at(pkg, 'version'), nextStep: pinStep(pkg, want.version, 'not installed yet') })
      }
      continue
    }
    if (want.version !== undefined && want.version !== have.version && want.pinVersion !== true) {
      places.push({
        path: APT_DOCUMENT,
        at: at(pkg, 'version'),
        nextStep: pinStep(pkg, want.version, `live ${have.version ?? 'unknown'}`),
      })
    }
    if (want.architecture !== have.architecture) {
      places.push({ path: APT_DOCUMENT, at: at(pkg, 'architecture'), nextStep: `The architecture is part of the package's name: a package for another architecture is an entry of its own ("${pkg.split(':')[0]}:${want.architecture}")` })
    }
    if (want.status !== have.status) {
      places.push({ path: APT_DOCUMENT, at: at(pkg, 'status'), nextStep: `"status" is what dpkg reports of the install; no plan sets it (\`dpkg --configure -a\` finishes an unfinished one)` })
    }
  }
  for (const pkg of Object.keys(actual.packages).sort(compareStrings)) {
    if (desired.packages[pkg] !== undefined || actual.packages[pkg]?.manual !== false) continue
    places.push({
      path: APT_DOCUMENT,
      at: at(pkg),
      nextStep: `${pkg} was installed automatically (as a dependency): apt removes it with what needs it, never on its own; remove the package that needs it, or set "manual": true first`,
    })
  }
  return places
}

/** The next step of a version apt does not install without a pin: the pin to write. */
function pinStep(pkg: string, version: string, live: string): string {
  return `apt installs the archive's version of ${pkg}, not the one apt.json records (${live}): to install exactly ${version}, pin it in ${APT_PINS_DOCUMENT} ({ "pins": { "${pkg}": "${version}" } })`
}
