/** One stanza of dpkg's status file, reduced to what the twin keeps. */
export interface DpkgRecord {
  name: string
  architecture: string
  version: string
  /** Selection: install, hold, deinstall, purge, unknown. */
  want: string
  /** Package status: installed, config-files, unpacked, half-configured… */
  status: string
}

// A package is on the system (apt's "current version") unless dpkg only remembers it.
const NOT_PRESENT = new Set(['not-installed', 'config-files'])

export function isPresent(record: DpkgRecord): boolean {
  return !NOT_PRESENT.has(record.status)
}

/**
 * Parse /var/lib/dpkg/status (deb822 stanzas). Only the four fields the twin needs are read;
 * continuation lines (descriptions, conffiles) are skipped without being split into fields.
 */
export function parseDpkgStatus(text: string): DpkgRecord[] {
  const records: DpkgRecord[] = []
  let current: Partial<Record<'Package' | 'Architecture' | 'Version' | 'Status', string>> = {}
  const flush = (): void => {
    const { Package: name, Status: statusField } = current
    if (name !== undefined && statusField !== undefined) {
      const words = statusField.split(/\s+/)
      records.push({
        name,
        architecture: current.Architecture ?? '',
        version: current.Version ?? '',
        want: words[0] ?? 'unknown',
        status: words[2] ?? words[words.length - 1] ?? 'unknown',
      })
    }
    current = {}
  }
  for (const line of text.split('\n')) {
    if (line.length === 0) {
      flush()
      continue
    }
    const first = line.charCodeAt(0)
    if (first === 32 || first === 9) continue
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const field = line.slice(0, colon)
    if (field === 'Package' || field === 'Architecture' || field === 'Version' || field === 'Status') {
      current[field] = line.slice(colon + 1).trim()
    }
  }
  flush()
  return records
}
