/** A unified diff of two texts, or undefined when it would take too long to compute. */
export type TextDiffer = (path: string, before: string, after: string) => string | undefined

let loaded: TextDiffer | undefined

/**
 * jsdiff is loaded on first need, not at import: most CLI commands never diff a file, and
 * startup time matters. `diff()` is synchronous, so the provider loads it in `load()`, which
 * always comes first when there is a desired state to diff.
 */
export async function loadTextDiffer(): Promise<TextDiffer> {
  if (loaded !== undefined) return loaded
  const { createTwoFilesPatch } = await import('diff')
  loaded = (path, before, after) =>
    // A pathological pair of files must not stall a plan: give up after two seconds.
    createTwoFilesPatch(`a${path}`, `b${path}`, before, after, undefined, undefined, { context: 3, timeout: 2000 })
  return loaded
}

/** The differ if it is already loaded. */
export function textDifferIfLoaded(): TextDiffer | undefined {
  return loaded
}
