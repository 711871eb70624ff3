import type { TSchema } from 'typebox'

/**
 * The refusing schema's own words (`errorMessage`, as ajv-errors names it) at an error's
 * `schemaPath`, when it has them: a rule written as a pattern says what it means, not the
 * pattern (files.include). Used by the core's configuration check and a provider's own.
 */
export function schemaWords(schema: TSchema, schemaPath: string | undefined): string | undefined {
  if (schemaPath === undefined || !schemaPath.startsWith('#')) return undefined
  let at: unknown = schema
  for (const part of schemaPath.slice(1).split('/').filter((p) => p !== '')) {
    if (typeof at !== 'object' || at === null) return undefined
    at = (at as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  const words = typeof at === 'object' && at !== null ? (at as { errorMessage?: unknown }).errorMessage : undefined
  return typeof words === 'string' ? words : undefined
}
