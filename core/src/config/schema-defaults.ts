/**
 * Fill in the `default` values a JSON schema declares, the way typebox's Value.Default does for
 * the shapes configuration schemas use (objects of properties, nested). Kept small and local
 * because loading typebox's value module costs more start-up time than every provider's
 * collect on an unchanged machine.
 */
export function applyDefaults(schema: unknown, value: unknown): unknown {
  const s = schema as { type?: string; default?: unknown; properties?: Record<string, unknown> } | undefined
  if (s === undefined || s === null || typeof s !== 'object') return value
  if (value === undefined && 'default' in s) value = structuredClone(s.default)
  if (s.properties !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) }
    for (const [key, child] of Object.entries(s.properties)) {
      const filled = applyDefaults(child, out[key])
      if (filled !== undefined) out[key] = filled
    }
    return out
  }
  return value
}
