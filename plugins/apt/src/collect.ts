import { infoDiagnostic, secretRulesInNames, sortBy, warningDiagnostic, type Diagnostic, type HostPort } from '@twinsync/sdk'
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
  // Debian's names are lowercase letters, digits and `+ - .`, yet some tokens fit (`glrt-…`, a
  // Mailgun `key-…`, `pul-…`): a package built locally under one would be a key of apt.json, which
  // the core's guard could only redact, then drift with a plan to install `<redacted>`. Held out;
  // screened as one text (the SDK's secretRulesInNames), only when dpkg's status moved (state-cache.ts).
  const held = await secretRulesInNames(records.map((r) => r.name))
  for (const record of sortBy(records, (r) => `${r.name}:${r.architecture}`)) {
    const rule = held.get(record.name)
    if (rule !== undefined) {
      diagnostics.push(
        warningDiagnostic('APT_NAME_SECRET', `An installed package has a name that holds a secret (${rule}); the twin leaves it out`, {
          path: DPKG_STATUS,
          provider: 'apt',
          detail: 'A package name reaches apt.json, the diary line and every plan. Only a package built locally can be so named (installed with `dpkg -i`): nothing is planned for it, and it is no drift. Rebuild it under another name, or remove it (`dpkg -l` shows it), then snapshot again.',
        }),
      )
      continue
    }
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
