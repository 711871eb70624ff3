import { TwinSyncError } from '@twinsync/sdk'

/** Unit types the provider changes (enable, start…); others (device, scope) are only read. */
const CHANGEABLE_UNIT = /^[A-Za-z0-9:_.@\\-]+\.(service|socket|timer|target|path|mount|automount|swap|slice|scope)$/
const UNIT_SUFFIXES = new Set(['service', 'socket', 'device', 'mount', 'automount', 'swap', 'target', 'path', 'timer', 'slice', 'scope'])
const UNIT_PREFIX_CHAR = /^[A-Za-z0-9:_.\\-]+$/

export function isChangeableUnitName(name: string): boolean {
  // A leading dash could read as an option to a tool that does not take "--".
  return CHANGEABLE_UNIT.test(name) && isUnitName(name) && !name.startsWith('-')
}

/** systemd's own unit_name_is_valid(UNIT_NAME_ANY): what list-unit-files shows. */
export function isUnitName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || !UNIT_SUFFIXES.has(name.slice(dot + 1))) return false
  const stem = name.slice(0, dot)
  const at = stem.indexOf('@')
  if (at < 0) return UNIT_PREFIX_CHAR.test(stem)
  if (at === 0) return false
  const instance = stem.slice(at + 1)
  return UNIT_PREFIX_CHAR.test(stem.slice(0, at)) && (instance === '' || /^[A-Za-z0-9:_.\\@-]+$/.test(instance))
}

export function isTemplate(name: string): boolean {
  return /@\.[a-z]+$/.test(name)
}

export function isInstance(name: string): boolean {
  return /@[^.]+.*\.[a-z]+$/.test(name) && !isTemplate(name)
}

/** "getty@tty1.service" and "getty@.service" give "getty@.service"; a plain name gives undefined. */
export function templateOf(name: string): string | undefined {
  const at = name.indexOf('@')
  if (at < 0) return undefined
  return name.slice(0, at + 1) + name.slice(name.lastIndexOf('.'))
}

export function instanceOf(name: string): string | undefined {
  const at = name.indexOf('@')
  if (at < 0) return undefined
  return name.slice(at + 1, name.lastIndexOf('.'))
}

export function withInstance(template: string, instance: string): string {
  const at = template.indexOf('@')
  return template.slice(0, at + 1) + instance + template.slice(template.lastIndexOf('.'))
}

export function checkUnitName(name: string): string {
  if (!isChangeableUnitName(name)) {
    throw new TwinSyncError('NAME_INVALID', `Not a valid systemd unit name: ${JSON.stringify(name)}`, {
      nextStep: 'A unit name is letters, digits and : _ . @ - \\ with a unit type suffix such as .service or .timer; fix the twin or plan.',
      details: { name },
    })
  }
  return name
}
