import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * Every command a person can type, in the README's command table (issue 23 item 7): the
 * commands oclif knows (core/oclif.manifest.json, written by `npm run build`), hidden ones and
 * the plugin manager's own aside, each with its aliases.
 */
describe('README lists every command', () => {
  /** The command lines of the table's first column: `twinsync github create\|link`, `show` → ["github create", "github link", "show"]. */
  function listed(readme: string): Set<string> {
    const out = new Set<string>()
    for (const row of readme.split('\n').filter((l) => l.startsWith('| `'))) {
      const first = row.split(/(?<!\\)\|/)[1] ?? ''
      for (const [, span] of first.matchAll(/`([^`]+)`/g)) {
        const words = (span as string).replace(/^twinsync\s*/, '').split(/\s+/).filter((w) => /^[a-z]/.test(w))
        if (words.length === 0) continue
        const [head, next] = words as [string, string | undefined]
        for (const a of head.split('\\|')) {
          out.add(a)
          for (const b of next?.split('\\|') ?? []) out.add(`${a} ${b}`)
        }
      }
    }
    return out
  }

  it('names each command and alias of the manifest', async () => {
    const manifest = JSON.parse(await readFile(join(repo, 'core', 'oclif.manifest.json'), 'utf8').catch(() => assert.fail('core/oclif.manifest.json is missing: run `npm run build` first'))) as {
      commands: Record<string, { hidden?: boolean; aliases?: string[] }>
    }
    const names = Object.entries(manifest.commands)
      .filter(([, c]) => c.hidden !== true)
      .flatMap(([id, c]) => [id, ...(c.aliases ?? [])])
      .map((id) => id.replace(/:/g, ' '))
    assert.ok(names.length > 25, `only ${names.length} commands in the manifest`)
    const readme = listed(await readFile(join(repo, 'README.md'), 'utf8'))
    const missing = names.filter((n) => !readme.has(n))
    assert.deepEqual(missing, [], `README.md's command table does not list: ${missing.join(', ')}`)
  })
})
