import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Every regular file of `root` below `folders` of at most `maxBytes`, as [its path on the
 * machine ("/etc/…"), its bytes read as latin1] (as the files provider reads a text), folder by
 * folder in name order; a folder that cannot be read is left out.
 */
export async function rootTexts(root: string, folders: readonly string[], maxBytes: number): Promise<Array<[string, string]>> {
  const texts: Array<[string, string]> = []
  const walk = async (dir: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile() && (await stat(p)).size <= maxBytes) texts.push([p.slice(root.length), (await readFile(p)).toString('latin1')])
    }
  }
  for (const d of folders) await walk(join(root, d))
  return texts
}
