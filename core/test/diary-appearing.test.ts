import { strict as assert } from 'node:assert'
import { MemoryTwin, PathClaims, type ApplicableProvider, type ProviderContext, type TwinReader } from '@twinsync/sdk'
import { countChanges, semanticDiff } from '../src/history/semantic-diff.js'

/**
 * Session 50 (issue 22): a domain that appears (its older side holds no state: every domain in a
 * first snapshot) is described file by file whatever its newer side holds, so the diary line
 * (semanticDiff's `narrow`) no longer loads the newer side. show, diff and history load both, and
 * name a newer side that fails to load.
 */
describe('a domain that appears: the diary line loads only its older side', () => {
  const list = 'system/things/list.json'
  const loads: string[] = []
  const things = (failNewer = false): ApplicableProvider<{ names: string[] }> =>
    ({
      name: 'things',
      category: 'packages',
      twinPaths: ['system/things/'],
      async load({ twin }: { twin: TwinReader }) {
        const text = await twin.readText(list)
        loads.push(text === undefined ? 'older' : 'newer')
        if (text !== undefined && failNewer) throw new Error('the list is damaged')
        return { state: text === undefined ? undefined : (JSON.parse(text) as { names: string[] }), diagnostics: [] }
      },
      async diff() {
        return { changes: [], diagnostics: [] }
      },
      async apply() {
        return { results: [], diagnostics: [] }
      },
    }) as unknown as ApplicableProvider<{ names: string[] }>
  const older = new MemoryTwin([{ path: 'twin.json', content: '{}\n' }])
  const newer = new MemoryTwin([
    { path: 'twin.json', content: '{}\n' },
    { path: list, content: '{"names":["a","b"]}\n' },
    { path: 'system/things/notes.txt', content: 'n\n' },
  ])
  const changed = [
    { path: list, change: 'A' as const },
    { path: 'system/things/notes.txt', change: 'A' as const },
  ]
  const ctx = {} as ProviderContext
  const diff = (provider: ApplicableProvider<{ names: string[] }>, narrow: boolean) => semanticDiff(older, newer, changed, [provider], new PathClaims(), () => ctx, { diffs: false, narrow })

  beforeEach(() => {
    loads.length = 0
  })

  it('with narrow (the diary line), loads the older side alone and counts the files', async () => {
    const result = await diff(things(), true)
    assert.deepEqual(loads, ['older'])
    assert.deepEqual(countChanges(result.domains), { packages: 2 })
    assert.deepEqual(result.diagnostics, [])
  })

  it('counts the same as show and history, which load both sides (a guard: passes on the old code)', async () => {
    const diary = await diff(things(), true)
    loads.length = 0
    const shown = await diff(things(), false)
    assert.deepEqual(loads.sort(), ['newer', 'older'])
    assert.deepEqual(shown.domains, diary.domains)
  })

  it('a newer side that fails to load: counted file by file either way; show names the failure (a guard)', async () => {
    const diary = await diff(things(true), true)
    const shown = await diff(things(true), false)
    assert.deepEqual(countChanges(diary.domains), countChanges(shown.domains))
    assert.equal(shown.diagnostics.length, 1)
    assert.match(shown.diagnostics[0]?.summary ?? '', /things/)
  })
})
