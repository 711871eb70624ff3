import { fnmatch } from '@twinsync/sdk'
import { instanceOf, isInstance, templateOf } from './unit-name.js'

export type PresetAction = 'enabled' | 'disabled'

export interface PresetRule {
  action: PresetAction
  pattern: string
  /** "enable foo@.service a b": only these instances of a template. */
  instances: string[]
}

/** Rules of one preset file, in order; unknown verbs are skipped the way systemd skips them. */
export function parsePresetFile(text: string): PresetRule[] {
  const rules: PresetRule[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const [verb, pattern, ...instances] = line.split(/\s+/)
    if (pattern === undefined) continue
    if (verb === 'enable') rules.push({ action: 'enabled', pattern, instances })
    else if (verb === 'disable') rules.push({ action: 'disabled', pattern, instances: [] })
  }
  return rules
}

/**
 * The vendor preset of a unit: the first rule that matches wins; with no matching rule systemd
 * enables (Debian ships no catch-all "disable *").
 */
export function presetOf(name: string, rules: readonly PresetRule[]): PresetAction {
  for (const rule of rules) {
    if (matches(rule, name)) return rule.action
  }
  return 'enabled'
}

function matches(rule: PresetRule, name: string): boolean {
  if (rule.instances.length > 0 && isInstance(name)) {
    const template = templateOf(name)
    if (template !== undefined && fnmatch(rule.pattern, template) && rule.instances.includes(instanceOf(name) ?? '')) return true
  }
  return fnmatch(rule.pattern, name)
}
