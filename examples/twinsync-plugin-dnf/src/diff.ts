import { compareStrings, errorDiagnostic, fingerprint, infoDiagnostic, type Change, type Diagnostic, type DiffResult } from '@twinsync/sdk'
import { DNF_SOURCE_PATHS, type DnfPackage, type DnfState } from './state.js'
import { isValidPackageName } from './names.js'

export type DnfOperation = 'install' | 'erase' | 'mark-install' | 'mark-remove'
export const DNF_OPERATIONS: readonly DnfOperation[] = ['install', 'erase', 'mark-install', 'mark-remove']

/** `Change.data` of a dnf change: all apply needs, without the twin. */
export interface DnfChangeData {
  package: string
}

/** The fingerprint of a package's live entry (or of its absence), for `liveFingerprint`. */
export function packageFingerprint(entry: DnfPackage | undefined): string {
  return fingerprint(entry)
}

/**
 * The changes that turn the live packages into the twin's. Pure. The twin speaks for the
 * packages installed on purpose: one missing live is installed, one live but absent from the
 * twin is erased. Dependencies come and go with what needs them; their marks are reconciled
 * when both sides have them. A version difference is reported, not changed.
 */
export function diffDnfState(desired: DnfState, actual: DnfState): DiffResult {
  const changes: Change[] = []
  const diagnostics: Diagnostic[] = []
  const add = (operation: DnfOperation, name: string, summary: string, extra: Partial<Change>): void => {
    changes.push({
      id: `dnf:${operation}:${name}`,
      provider: 'dnf',
      category: 'packages',
      operation,
      resource: name,
      summary,
      risk: operation === 'erase' ? 'high' : operation === 'install' ? 'medium' : 'low',
      liveFingerprint: packageFingerprint(actual.packages[name]),
      data: { package: name } satisfies DnfChangeData,
      ...extra,
    })
  }
  for (const name of Object.keys(desired.packages).sort(compareStrings)) {
    const want = desired.packages[name] as DnfPackage
    if (!isValidPackageName(name)) {
      diagnostics.push(errorDiagnostic('NAME_INVALID', `The twin lists an invalid rpm package name: ${JSON.stringify(name)}`, { path: name, provider: 'dnf' }))
      continue
    }
    const have = actual.packages[name]
    if (have === undefined) {
      if (want.userInstalled) add('install', name, `install ${name}`, { after: want.version, needs: [...DNF_SOURCE_PATHS] })
      continue
    }
    if (want.version !== have.version) {
      diagnostics.push(infoDiagnostic('DNF_VERSION_DIFFERS', `${name}: the twin has ${want.version}, live is ${have.version}`, { path: name, provider: 'dnf' }))
    }
    if (want.userInstalled && !have.userInstalled) add('mark-install', name, `mark ${name} as installed on purpose`, { before: 'dependency', after: 'user' })
    if (!want.userInstalled && have.userInstalled) add('mark-remove', name, `mark ${name} as a dependency`, { before: 'user', after: 'dependency' })
  }
  for (const name of Object.keys(actual.packages).sort(compareStrings)) {
    const have = actual.packages[name] as DnfPackage
    if (desired.packages[name] !== undefined || !have.userInstalled) continue
    add('erase', name, `erase ${name} ${have.version}`, { before: have.version, removal: true })
  }
  return { changes, diagnostics }
}
