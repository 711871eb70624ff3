import { infoDiagnostic, sortBy, type Diagnostic, type HostPort } from '@twinsync/sdk'
import { isPresent, parseDpkgStatus, type DpkgRecord } from './dpkg-status.js'
import { parseAutoInstalled } from './extended-states.js'
import type { AptPackage, AptState } from './state.js'

export const DPKG_STATUS = '/var/lib/dpkg/status'
export const EXTENDED_STATES = '/var/lib/apt/extended_states'

/** The twin's key of a package: its name, with ":arch" only for a foreign architecture. */
export function packageKey(name: string, architecture: string, nativeArchitecture: string): string {
  return architecture === nativeArchitecture || architecture === 'all' || architecture === '' ? name : `${name}:${architecture}`
}

/**
 * Read the installed packages of the target straight from dpkg's and apt's databases: the same
 * facts `dpkg-query -W` and `apt-mark showmanual/showhold` print, in a few milliseconds instead
 * of a process start each.
 */
export async function collectAptState(host: HostPort): Promise<{ state: AptState; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = []
  const statusText = (await host.readTextIfExists(DPKG_STATUS)) ?? ''
  const records = parseDpkgStatus(statusText).filter(isPresent)
  const nativeArchitecture = nativeArchitectureOf(records)
  const auto = parseAutoInstalled((await host.readTextIfExists(EXTENDED_STATES)) ?? '', nativeArchitecture)

  const packages: Record<string, AptPackage> = {}
  for (const record of sortBy(records, (r) => `${r.name}:${r.architecture}`)) {
    const aptArch = record.architecture === 'all' ? nativeArchitecture : record.architecture
    const entry: AptPackage = {
      version: record.version,
      architecture: record.architecture,
      manual: !auto.has(`${record.name}:${aptArch}`),
      hold: record.want === 'hold',
    }
    if (record.status !== 'installed') {
      entry.status = record.status
      diagnostics.push(
        infoDiagnostic('APT_PACKAGE_UNFINISHED', `${record.name} is ${record.status}, not fully installed`, {
          detail: 'Run `dpkg --configure -a` (or `apt-get -f install`) on the target to finish it.',
          path: record.name,
        }),
      )
    }
    packages[packageKey(record.name, record.architecture, nativeArchitecture)] = entry
  }
  return { state: { nativeArchitecture, packages }, diagnostics }
}

/** dpkg is always built for the native architecture, so its own package tells it. */
function nativeArchitectureOf(records: readonly DpkgRecord[]): string {
  const dpkg = records.find((r) => r.name === 'dpkg')
  if (dpkg !== undefined && dpkg.architecture !== '') return dpkg.architecture
  // No dpkg package (a damaged database): the most common concrete architecture is the best guess.
  const counts = new Map<string, number>()
  for (const r of records) if (r.architecture !== 'all' && r.architecture !== '') counts.set(r.architecture, (counts.get(r.architecture) ?? 0) + 1)
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ''
}
