import { errorDiagnostic, infoDiagnostic, sortBy, warningDiagnostic, type Change, type Diagnostic, type DiffResult, type Risk } from '@twinsync/sdk'
import { aptChangeId, type AptChangeData, type AptOperation } from './change.js'
import { isValidPackageName, isValidPackageVersion } from './name.js'
import type { AptState } from './state.js'

/**
 * Where apt finds packages and the keys that sign them: a plan's changes to these paths (a new
 * repository and its key) run before the installs that may come from it.
 */
export const APT_SOURCE_PATHS = [
  '/etc/apt/sources.list',
  '/etc/apt/sources.list.d/',
  '/etc/apt/keyrings/',
  '/etc/apt/trusted.gpg',
  '/etc/apt/trusted.gpg.d/',
  '/usr/share/keyrings/',
  '/etc/apt/preferences',
  '/etc/apt/preferences.d/',
  '/etc/apt/auth.conf.d/',
] as const

/**
 * The changes that turn the live packages (`actual`) into the twin's (`desired`). Pure.
 *
 * The twin speaks for manually installed packages: a manual one missing live is installed, a
 * manual one live but absent from the twin is removed. Automatically installed packages come and
 * go with what needs them, so they are never installed or removed on their own; their marks and
 * holds are reconciled when both sides have them.
 */
export function diffAptState(desired: AptState, actual: AptState): DiffResult {
  const changes: Change[] = []
  const diagnostics: Diagnostic[] = []
  const add = (operation: AptOperation, pkg: string, summary: string, risk: Risk, extra: Partial<Change> = {}, data: Partial<AptChangeData> = {}): string => {
    const id = aptChangeId(operation, pkg)
    const order: Partial<Change> = operation === 'install' ? { needs: [...APT_SOURCE_PATHS] } : operation === 'remove' ? { removal: true } : {}
    changes.push({ id, provider: 'apt', category: 'packages', operation, resource: pkg, summary, risk, ...order, ...extra, data: { package: pkg, ...data } })
    return id
  }

  if (desired.nativeArchitecture !== actual.nativeArchitecture && desired.nativeArchitecture !== '' && actual.nativeArchitecture !== '') {
    diagnostics.push(
      warningDiagnostic('APT_ARCHITECTURE_DIFFERS', `The twin was taken on ${desired.nativeArchitecture}, this machine is ${actual.nativeArchitecture}`, {
        detail: 'Packages keep their names; architecture-specific versions may not exist here.',
        provider: 'apt',
      }),
    )
  }

  for (const [pkg, want] of sortBy(Object.entries(desired.packages), ([k]) => k)) {
    if (!isValidPackageName(pkg)) {
      diagnostics.push(errorDiagnostic('NAME_INVALID', `The twin lists an invalid package name: ${JSON.stringify(pkg)}`, { path: pkg, provider: 'apt' }))
      continue
    }
    if (want.pinVersion === true && (want.version === undefined || !isValidPackageVersion(want.version))) {
      diagnostics.push(errorDiagnostic('NAME_INVALID', want.version === undefined ? `The twin pins ${pkg} but gives no version` : `The twin pins ${pkg} to an invalid version: ${JSON.stringify(want.version)}`, { path: pkg, provider: 'apt' }))
      continue
    }
    const have = actual.packages[pkg]
    const pinned = want.pinVersion === true ? { version: want.version } : {}
    let installId: string | undefined
    if (have === undefined) {
      if (!want.manual) continue
      // An entry without a version (written by a person) asks for the archive's candidate, and the plan says so;
      // so does an entry whose version is not pinned: the plan never shows a version it does not install.
      const candidate = want.version === undefined
      const pinnedVersion = want.pinVersion === true ? want.version : undefined
      installId = add('install', pkg, `install ${pkg} ${pinnedVersion ?? '(the candidate version)'}`, 'medium', { after: pinnedVersion ?? 'the candidate version' }, pinned)
      if (want.pinVersion !== true && !candidate) {
        diagnostics.push(infoDiagnostic('APT_VERSION_FROM_ARCHIVE', `${pkg}: the twin has ${want.version}; the archive's candidate will be installed`, {
          detail: 'Set "pinVersion": true in the twin entry to install exactly that version.',
          path: pkg,
          provider: 'apt',
        }))
      }
    } else {
      if (want.version !== undefined && want.version !== have.version) {
        if (want.pinVersion === true) {
          installId = add('install', pkg, `install ${pkg} ${want.version} (live ${have.version})`, 'medium', { before: have.version, after: want.version }, pinned)
        } else {
          diagnostics.push(infoDiagnostic('APT_VERSION_DIFFERS', `${pkg}: the twin has ${want.version}, live is ${have.version}`, {
            detail: 'Not changed: set "pinVersion": true in the twin entry to install exactly the twin\'s version.',
            path: pkg,
            provider: 'apt',
          }))
        }
      }
      if (want.manual && !have.manual) add('mark-manual', pkg, `mark ${pkg} as manually installed`, 'low', { before: 'auto', after: 'manual' })
      if (!want.manual && have.manual) add('mark-auto', pkg, `mark ${pkg} as automatically installed`, 'low', { before: 'manual', after: 'auto' })
      if (!want.hold && have.hold) {
        const unhold = add('unhold', pkg, `release the hold on ${pkg}`, 'low', { before: 'hold', after: 'install' })
        if (installId !== undefined) requireOf(changes, installId, unhold)
      }
    }
    if (want.hold && have?.hold !== true && (have !== undefined || want.manual)) {
      add('hold', pkg, `hold ${pkg}`, 'low', { before: 'install', after: 'hold', ...(installId === undefined ? {} : { requires: [installId] }) })
    }
  }

  for (const [pkg, have] of sortBy(Object.entries(actual.packages), ([k]) => k)) {
    if (desired.packages[pkg] !== undefined || !have.manual) continue
    // A held package is protected from apt: release the hold first, as its own visible step.
    const unhold = have.hold ? add('unhold', pkg, `release the hold on ${pkg}`, 'low', { before: 'hold', after: 'install' }) : undefined
    add('remove', pkg, `remove ${pkg} ${have.version}`, 'high', { before: have.version, ...(unhold === undefined ? {} : { requires: [unhold] }) })
  }
  return { changes, diagnostics }
}

function requireOf(changes: Change[], id: string, required: string): void {
  const change = changes.find((c) => c.id === id)
  if (change !== undefined) change.requires = [...(change.requires ?? []), required]
}


/**
 * What happened to the packages between two recorded states (history, show, diff, a snapshot's
 * diary line, the drift `status` counts). Pure. Unlike `diffAptState`, which plans only what the
 * twin speaks for, every package counts here: one pulled in as a dependency, one removed with
 * the package that needed it, a version that moved without a pin.
 */
export function observeAptState(before: AptState, after: AptState): DiffResult {
  const changes: Change[] = []
  const add = (operation: AptOperation, pkg: string, risk: Risk, extra: Partial<Change>) =>
    changes.push({ id: aptChangeId(operation, pkg), provider: 'apt', category: 'packages', operation, resource: pkg, summary: `${operation} ${pkg}`, risk, ...extra, data: { package: pkg } })
  const names = [...new Set([...Object.keys(before.packages), ...Object.keys(after.packages)])].sort()
  for (const pkg of names) {
    const was = before.packages[pkg]
    const now = after.packages[pkg]
    if (was === undefined && now !== undefined) {
      add('install', pkg, 'medium', now.version === undefined ? {} : { after: now.version })
      if (now.hold) add('hold', pkg, 'low', { before: 'install', after: 'hold' })
    } else if (was !== undefined && now === undefined) {
      add('remove', pkg, 'high', was.version === undefined ? {} : { before: was.version })
    } else if (was !== undefined && now !== undefined) {
      if (was.version !== undefined && now.version !== undefined && was.version !== now.version) add('install', pkg, 'medium', { before: was.version, after: now.version })
      if (was.manual !== now.manual) add(now.manual ? 'mark-manual' : 'mark-auto', pkg, 'low', { before: was.manual ? 'manual' : 'auto', after: now.manual ? 'manual' : 'auto' })
      if (was.hold !== now.hold) add(now.hold ? 'hold' : 'unhold', pkg, 'low', { before: was.hold ? 'hold' : 'install', after: now.hold ? 'hold' : 'install' })
    }
  }
  return { changes, diagnostics: [] }
}
