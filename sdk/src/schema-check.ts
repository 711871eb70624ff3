import type { TSchema } from 'typebox'

/**
 * The first way `value` breaks `schema`, as "/path: message", or undefined when it matches.
 * For a plugin's `load` (the twin is untrusted input): the plugin needs no typebox of its own.
 * typebox's value module is loaded on first use only; it is slow to load.
 */
export async function schemaProblem(schema: TSchema, value: unknown): Promise<string | undefined> {
  const { Value } = await import('typebox/value')
  if (Value.Check(schema, value)) return undefined
  const first = [...Value.Errors(schema, value)][0]
  return `${first?.instancePath || '/'}: ${first?.message ?? 'does not match the schema'}`
}
