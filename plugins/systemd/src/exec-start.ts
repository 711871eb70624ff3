import type { StartupEntry } from '@twinsync/sdk'
import type { UnitFileIndex } from './unit-file-index.js'

/**
 * The values of `key` in `section` of a unit's texts (the unit file, then its drop-ins), as systemd's
 * conf-parser reads them: comment lines (`#`, `;`) skipped, a line ending in a backslash joined to
 * the next with a space, an empty assignment clearing what came before (how a drop-in replaces
 * ExecStart=).
 */
export function unitSetting(texts: readonly string[], section: string, key: string): string[] {
  let values: string[] = []
  for (const text of texts) {
    let current: string | undefined
    let pending = ''
    for (const raw of text.split('\n')) {
      const line = raw.trim()
      if (pending === '' && (line === '' || line.startsWith('#') || line.startsWith(';'))) continue
      if (pending !== '' && (line.startsWith('#') || line.startsWith(';'))) continue
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1).trimEnd()} `
        continue
      }
      const whole = pending + line
      pending = ''
      if (whole.startsWith('[') && whole.endsWith(']')) {
        current = whole.slice(1, -1)
        continue
      }
      if (current !== section) continue
      const eq = whole.indexOf('=')
      if (eq < 0 || whole.slice(0, eq).trim() !== key) continue
      const value = whole.slice(eq + 1).trim()
      values = value === '' ? [] : [...values, value]
    }
  }
  return values
}

/**
 * A command line as a person reads it: ExecStart='s prefixes taken off (`-` ignore failure, `:`
 * no environment substitution, `+`/`!`/`!!` privileges); with `@` the second word is only argv[0],
 * so it is left out too.
 */
export function commandOf(value: string): string {
  const prefix = /^[-@:+!]*/.exec(value)?.[0] ?? ''
  let rest = value.slice(prefix.length).trim()
  if (prefix.includes('@')) {
    const words = rest.split(/\s+/)
    rest = [words[0], ...words.slice(2)].join(' ')
  }
  return rest
}

/**
 * systemd's unit-name specifiers in a command line, for the unit `name`: %n (the name), %N (without
 * its type), %p (the prefix, before `@`), %i (the instance), %I (the instance unescaped: `-` is
 * `/`, `\xNN` a byte), %%. Other specifiers (%h, %t, %H…) depend on the running system and are
 * left as written.
 */
export function withSpecifiers(command: string, name: string): string {
  const dot = name.lastIndexOf('.')
  const plain = dot < 0 ? name : name.slice(0, dot)
  const at = plain.indexOf('@')
  const prefix = at < 0 ? plain : plain.slice(0, at)
  const instance = at < 0 ? '' : plain.slice(at + 1)
  const unescaped = instance.replace(/-/g, '/').replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
  const values: Record<string, string> = { n: name, N: plain, p: prefix, i: instance, I: unescaped, '%': '%' }
  return command.replace(/%([nNpiI%])/g, (_, c: string) => values[c] as string)
}

/** The service a timer starts: its [Timer] Unit=, else its own name with `.service` (an instance's of the same instance, as systemd's unit_name_change_suffix). */
export function timerService(timer: string, texts: readonly string[]): string {
  return unitSetting(texts, 'Timer', 'Unit').at(-1) ?? `${timer.slice(0, -'.timer'.length)}.service`
}

/**
 * What a boot service or a timer's service runs, from the machine's unit files (`twinsync startup`):
 * its ExecStart= lines (a oneshot may have several, joined by "; "). A unit that is no service
 * (a socket, a mount), has no ExecStart= or leads to no unit file keeps no command.
 */
export async function withCommands(entries: StartupEntry[], index: UnitFileIndex): Promise<StartupEntry[]> {
  const commandOfUnit = async (unit: string): Promise<string | undefined> => {
    let service = unit
    if (unit.endsWith('.timer')) {
      const texts = await index.unitTexts(unit)
      if (texts === undefined) return undefined
      service = timerService(unit, texts)
    }
    if (!service.endsWith('.service')) return undefined
    const texts = await index.unitTexts(service)
    const lines = texts === undefined ? [] : unitSetting(texts, 'Service', 'ExecStart').map((line) => withSpecifiers(commandOf(line), service)).filter((c) => c !== '')
    return lines.length === 0 ? undefined : lines.join('; ')
  }
  return Promise.all(
    entries.map(async (entry) => {
      const command = await commandOfUnit(entry.name)
      return command === undefined ? entry : { ...entry, command }
    }),
  )
}
