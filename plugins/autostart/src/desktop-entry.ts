/**
 * XDG .desktop files, only as far as autostart needs them: the keys of the [Desktop Entry] group
 * that say what starts, whether it is enabled and on which desktops. Localised keys (Name[de])
 * and other groups (actions) are kept in the file but not read.
 */
const MAIN_GROUP = '[Desktop Entry]'

export interface DesktopEntry {
  /** Name= (unlocalised); undefined when the file has none. */
  name?: string
  /** Exec= as written (field codes such as %u included). */
  exec?: string
  type?: string
  /** Hidden=true: the spec's "treat as deleted", honoured by every desktop. */
  hidden: boolean
  /** X-GNOME-Autostart-enabled, when the file has it (GNOME, Cinnamon, MATE, Xfce read it). */
  gnomeAutostartEnabled?: boolean
  onlyShowIn: string[]
  notShowIn: string[]
  enabled: boolean
}

export function parseDesktopEntry(content: string): DesktopEntry {
  const keys = mainGroupKeys(content)
  const hidden = keys.get('Hidden') === 'true'
  const gnome = keys.get('X-GNOME-Autostart-enabled')
  const gnomeAutostartEnabled = gnome === undefined ? undefined : gnome === 'true'
  const entry: DesktopEntry = {
    hidden,
    onlyShowIn: listValue(keys.get('OnlyShowIn')),
    notShowIn: listValue(keys.get('NotShowIn')),
    enabled: !hidden && gnomeAutostartEnabled !== false,
  }
  const name = keys.get('Name')
  const exec = keys.get('Exec')
  const type = keys.get('Type')
  if (name !== undefined) entry.name = name
  if (exec !== undefined) entry.exec = exec
  if (type !== undefined) entry.type = type
  if (gnomeAutostartEnabled !== undefined) entry.gnomeAutostartEnabled = gnomeAutostartEnabled
  return entry
}

/**
 * The same file with the entry enabled or disabled, every other line untouched. Disabling sets
 * Hidden=true (which every desktop honours) and turns an existing X-GNOME-Autostart-enabled
 * off; enabling removes Hidden and turns X-GNOME-Autostart-enabled on.
 */
export function setDesktopEntryEnabled(content: string, enabled: boolean): string {
  const lines = content.split('\n')
  const finalNewline = lines.at(-1) === ''
  if (finalNewline) lines.pop()
  let start = lines.findIndex((l) => l.trim() === MAIN_GROUP)
  if (start < 0) {
    // No group at all: the file is not a valid entry; give it one so the switch means something.
    lines.unshift(MAIN_GROUP)
    start = 0
  }
  let end = lines.findIndex((l, i) => i > start && /^\s*\[.*\]\s*$/.test(l))
  if (end < 0) end = lines.length
  const out: string[] = []
  const insertAfter = lastKeyLine(lines, start, end)
  const addHidden = !enabled && !hasKey(lines, start, end, 'Hidden')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const key = i > start && i < end ? keyOf(line) : undefined
    if (key === 'Hidden') {
      if (!enabled) out.push('Hidden=true')
    } else if (key === 'X-GNOME-Autostart-enabled') {
      out.push(`X-GNOME-Autostart-enabled=${enabled}`)
    } else {
      out.push(line)
    }
    if (i === insertAfter && addHidden) out.push('Hidden=true')
  }
  return out.join('\n') + (finalNewline ? '\n' : '')
}

function mainGroupKeys(content: string): Map<string, string> {
  const keys = new Map<string, string>()
  let inMain = false
  for (const raw of content.split('\n')) {
    const line = raw.replace(/\r$/, '')
    const trimmed = line.trim()
    if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
      inMain = trimmed === MAIN_GROUP
      continue
    }
    if (!inMain || trimmed.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq < 0) continue
    const key = line.slice(0, eq).trim()
    // The first occurrence counts, as in GLib's key file parser.
    if (!keys.has(key)) keys.set(key, line.slice(eq + 1).trim())
  }
  return keys
}

function keyOf(line: string): string | undefined {
  if (line.trim().startsWith('#')) return undefined
  const eq = line.indexOf('=')
  return eq < 0 ? undefined : line.slice(0, eq).trim()
}

function hasKey(lines: readonly string[], start: number, end: number, key: string): boolean {
  return lines.some((l, i) => i > start && i < end && keyOf(l) === key)
}

// Where a new key goes: after the group's last key line, before blank lines and the next group.
function lastKeyLine(lines: readonly string[], start: number, end: number): number {
  for (let i = end - 1; i > start; i--) if (keyOf(lines[i] as string) !== undefined) return i
  return start
}

// "GNOME;XFCE;" is a list of two; "\;" is an escaped semicolon inside a value.
function listValue(value: string | undefined): string[] {
  if (value === undefined || value.length === 0) return []
  return value
    .split(/(?<!\\);/)
    .map((v) => v.replace(/\\;/g, ';').trim())
    .filter((v) => v.length > 0)
}
