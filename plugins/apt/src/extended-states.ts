/**
 * Parse apt's /var/lib/apt/extended_states: the "name:arch" keys of packages marked
 * `Auto-Installed: 1`. apt writes the native architecture for "all" packages, and an entry
 * without Architecture means the native one.
 */
export function parseAutoInstalled(text: string, nativeArchitecture: string): Set<string> {
  const auto = new Set<string>()
  for (const stanza of text.split(/\n\s*\n/)) {
    let name: string | undefined
    let arch = nativeArchitecture
    let isAuto = false
    for (const line of stanza.split('\n')) {
      const colon = line.indexOf(':')
      if (colon <= 0 || line.startsWith(' ')) continue
      const field = line.slice(0, colon)
      const value = line.slice(colon + 1).trim()
      if (field === 'Package') name = value
      else if (field === 'Architecture') arch = value
      else if (field === 'Auto-Installed') isAuto = value === '1'
    }
    if (name !== undefined && isAuto) auto.add(`${name}:${arch}`)
  }
  return auto
}
