import { compareStrings } from '@twinsync/sdk'
import type { UnitFileIndex } from './unit-file-index.js'
import { basenameOf, UNIT_SEARCH_PATH } from './unit-paths.js'

const BOOT_TARGETS = ['default.target', 'multi-user.target', 'graphical.target']

/** The target default.target stands for, read from the first default.target link in the search path. */
export async function defaultTargetOf(index: UnitFileIndex, readlink: (path: string) => Promise<string | undefined>): Promise<string | undefined> {
  const view = await index.searchPath()
  for (const dir of UNIT_SEARCH_PATH) {
    if (!view.has(dir, 'default.target')) continue
    const target = await readlink(`${dir}/default.target`)
    return target === undefined ? 'default.target' : basenameOf(target)
  }
  return undefined
}

/**
 * Units reached from the boot targets through .wants and .requires links, transitively.
 * `where`, when given, gets the first folder each unit's link was found in (for a held name's warning).
 */
export async function unitsWantedAtBoot(index: UnitFileIndex, defaultTarget: string | undefined, where?: Map<string, string>): Promise<string[]> {
  const seeds = [...BOOT_TARGETS, ...(defaultTarget === undefined ? [] : [defaultTarget])]
  const seen = new Set<string>(seeds)
  const queue = [...seen]
  const wanted = new Set<string>()
  // The listings answer without a promise a unit and directory (see SearchPathView).
  const view = await index.searchPath()
  while (queue.length > 0) {
    const unit = queue.shift() as string
    for (const dir of UNIT_SEARCH_PATH) {
      for (const suffix of ['.wants', '.requires']) {
        if (!view.has(dir, `${unit}${suffix}`)) continue
        for (const entry of await index.entries(`${dir}/${unit}${suffix}`)) {
          wanted.add(entry.name)
          if (where !== undefined && !where.has(entry.name)) where.set(entry.name, `${dir}/${unit}${suffix}`)
          if (!seen.has(entry.name)) {
            seen.add(entry.name)
            queue.push(entry.name)
          }
        }
      }
    }
  }
  for (const seed of seeds) wanted.delete(seed)
  return [...wanted].sort(compareStrings)
}
