/** The [Install] section of a unit file: what `systemctl enable` would link, and where. */
export interface InstallSection {
  aliases: string[]
  wantedBy: string[]
  requiredBy: string[]
  upheldBy: string[]
  also: string[]
  defaultInstance: string | undefined
}

export function emptyInstallSection(): InstallSection {
  return { aliases: [], wantedBy: [], requiredBy: [], upheldBy: [], also: [], defaultInstance: undefined }
}

const LIST_KEYS = { Alias: 'aliases', WantedBy: 'wantedBy', RequiredBy: 'requiredBy', UpheldBy: 'upheldBy', Also: 'also' } as const

/**
 * Read the [Install] section into `into` (drop-ins add to what the unit file set). systemd's
 * rules: "#" and ";" start comments, a trailing backslash continues the line, values are
 * space-separated lists, and an empty assignment clears the list.
 */
export function parseInstallSection(text: string, into: InstallSection = emptyInstallSection()): InstallSection {
  let inInstall = false
  const lines = text.replace(/\\\r?\n/g, ' ').split('\n')
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    if (line.startsWith('[')) {
      inInstall = line === '[Install]'
      continue
    }
    if (!inInstall) continue
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    const key = line.slice(0, eq).trim()
    const value = line.slice(eq + 1).trim()
    if (key === 'DefaultInstance') {
      into.defaultInstance = value === '' ? undefined : value
    } else if (key in LIST_KEYS) {
      const field = LIST_KEYS[key as keyof typeof LIST_KEYS]
      into[field] = value === '' ? [] : [...into[field], ...value.split(/\s+/)]
    }
  }
  return into
}

/** install_info_has_rules: something `enable` would create. */
export function hasInstallRules(section: InstallSection): boolean {
  return section.aliases.length + section.wantedBy.length + section.requiredBy.length + section.upheldBy.length > 0
}
