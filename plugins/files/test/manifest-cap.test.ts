// MAX_MANIFEST_ENTRIES (manifest.ts): the limit counts manifest.json and its parts together, is
// checked before the schema, and a manifest at the limit reads as before (session 37).
import { strict as assert } from 'node:assert'
import { bareTwinsyncLine, MemoryTwin } from '@twinsync/sdk'
import { MAX_MANIFEST_ENTRIES, manifestOverLimit, partOf, partPath, readManifest } from '../src/manifest.js'

const MANIFEST = 'system/files/manifest.json'
const entry = (i: number) => ({ gid: 0, mode: '0755', path: `/etc/d${Math.floor(i / 1000)}/e${String(i).padStart(7, '0')}`, type: 'directory', uid: 0 })

/** A version 2 manifest of `total` entries, each in its folder's part. */
function split(total: number): MemoryTwin {
  const parts = new Map<number, unknown[]>()
  for (let i = 0; i < total; i++) {
    const e = entry(i)
    const list = parts.get(partOf(e.path)) ?? []
    list.push(e)
    parts.set(partOf(e.path), list)
  }
  return new MemoryTwin([
    { path: MANIFEST, content: JSON.stringify({ entries: [], leftovers: [], version: 2 }) },
    ...[...parts].map(([part, entries]) => ({ path: partPath(part), content: JSON.stringify({ entries }) })),
  ])
}

describe('files manifest: at most MAX_MANIFEST_ENTRIES entries', function () {
  this.timeout(60_000)

  it('a manifest of one document: at the limit it reads; one more is FILES_MANIFEST_INVALID naming the count and the limit, and manifestOverLimit says so', async () => {
    const entries = Array.from({ length: MAX_MANIFEST_ENTRIES }, (_, i) => entry(i))
    const at = new MemoryTwin([{ path: MANIFEST, content: JSON.stringify({ entries, leftovers: [], version: 1 }) }])
    const read = await readManifest(at, bareTwinsyncLine)
    assert.ok(read !== undefined && 'entries' in read && read.entries.length === MAX_MANIFEST_ENTRIES)
    assert.equal(await manifestOverLimit(at, bareTwinsyncLine), undefined)
    entries.push({ ...entry(MAX_MANIFEST_ENTRIES), mode: 'not a mode' })
    const over = new MemoryTwin([{ path: MANIFEST, content: JSON.stringify({ entries, leftovers: [], version: 1 }) }])
    const refused = await readManifest(over, bareTwinsyncLine)
    assert.ok(refused !== undefined && 'problem' in refused)
    // Counted before the schema: the entry of the wrong form is not what is said.
    assert.equal(refused.problem.code, 'FILES_MANIFEST_INVALID')
    assert.match(refused.problem.summary, /^The files manifest lists 100,001 entries or more \(system\/files\/manifest\.json passes the limit\), more than the 100,000 TwinSync takes/)
    assert.deepEqual((await manifestOverLimit(over, bareTwinsyncLine))?.tooMany, { entries: MAX_MANIFEST_ENTRIES + 1, document: MANIFEST })
  })

  it('a split manifest: the parts count together (none alone over the limit)', async () => {
    const at = await readManifest(split(MAX_MANIFEST_ENTRIES), bareTwinsyncLine)
    assert.ok(at !== undefined && 'entries' in at && at.entries.length === MAX_MANIFEST_ENTRIES)
    const over = await manifestOverLimit(split(MAX_MANIFEST_ENTRIES + 1), bareTwinsyncLine)
    assert.equal(over?.code, 'FILES_MANIFEST_INVALID')
    assert.match(over?.tooMany?.document ?? '', /^system\/files\/manifest\/\d\d\.json$/)
  })

  it('a manifest wrong in another way is no matter for manifestOverLimit (the plan reports it)', async () => {
    assert.equal(await manifestOverLimit(new MemoryTwin([{ path: MANIFEST, content: '{"entries": "all"}' }]), bareTwinsyncLine), undefined)
    assert.equal(await manifestOverLimit(new MemoryTwin([]), bareTwinsyncLine), undefined)
  })
})
