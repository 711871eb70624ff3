import type { TSchema } from 'typebox'
import { validatorOf } from './compiled-schema.js'

/**
 * The first way `value` breaks `schema`, as "/path: message", or undefined when it matches.
 * For a plugin's `load` (the twin is untrusted input): the plugin needs no typebox of its own.
 * typebox's value module is loaded on first use only; it is slow to load.
 */
export async function schemaProblem(schema: TSchema, value: unknown): Promise<string | undefined> {
  const validator = validatorOf(schema)
  if (validator.Check(value)) return undefined
  const first = [...validator.Errors(value)][0]
  return `${first?.instancePath || '/'}: ${first?.message ?? 'does not match the schema'}`
}
