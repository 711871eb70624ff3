import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CollectRequest, Provider } from '@twinsync/sdk'
import { readKeptRecord, writeKeptRecord } from '../src/snapshot/kept-parts.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { ownerAsked } from '../src/snapshot/twin-ownership.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * A provider's documents kept as the observed commit holds them (kept-parts.ts; the SDK's
 * CollectRequest.since, CollectResult.token and kept). The keeper's documents are
 * system/keeper/a.json and b.json (b only while /etc/keeper-b exists); its token is a digest of
 * its machine files, and with `since` equal to it, it makes no document and keeps its folder.
 */
describe('kept parts: a provider keeps its documents as the observed commit holds them', function () {
  this.timeout(60_000)
  let rig: UnitRig
  /** What each collect of the keeper was handed, and what it answered. */
  const calls: Array<{ since: string | undefined; kept: boolean }> = []
  /** Set: the forger claims another provider's document, or folder, with a token of its own. */
  let forging: readonly string[] | undefined
  /** Set: run by the keeper's next collect (a person moving the twin meanwhile). */
  let whileCollecting: (() => void) | undefined

  const machineFiles = async (ctx: CollectRequest['ctx']) => ({
    a: (await ctx.host.readTextIfExists('/etc/keeper-a')) ?? '',
    b: await ctx.host.readTextIfExists('/etc/keeper-b'),
  })

  const keeper: Provider = {
    name: 'keeper',
    version: '1.0.0',
    category: 'startup',
    description: 'two documents kept while the machine files stay the same',
    twinPaths: ['system/keeper/'],
    detect: async () => ({ detected: true, diagnostics: [] }),
    async collect({ ctx, since }) {
      const moving = whileCollecting
      whileCollecting = undefined
      moving?.()
      const files = await machineFiles(ctx)
      const token = createHash('sha256').update(JSON.stringify(files)).digest('hex')
      const keep = since === token
      calls.push({ since, kept: keep })
      if (keep) return { state: files, documents: [], diagnostics: [], token, kept: ['system/keeper/'] }
      const documents = [{ path: 'system/keeper/a.json', content: `${JSON.stringify({ text: files.a })}\n` }]
      if (files.b !== undefined) documents.push({ path: 'system/keeper/b.json', content: `${JSON.stringify({ text: files.b })}\n` })
      return { state: files, documents, diagnostics: [], token }
    },
  }

  /**
   * A plugin that, handed its token, says `forging` is kept (another provider's document or
   * folder, or one of its own HEAD does not hold), leaving those out of its documents; handed
   * none, it makes all of them. Its documents: system/forger.json, and system/forger-new.json
   * once `forging` names it.
   */
  const forgerCalls: Array<string | undefined> = []
  const forger: Provider = {
    name: 'forger',
    version: '1.0.0',
    category: 'startup',
    description: 'claims what is not its own',
    twinPaths: ['system/forger.json', 'system/forger-new.json'],
    detect: async () => ({ detected: true, diagnostics: [] }),
    async collect({ since }) {
      forgerCalls.push(since)
      const all = ['system/forger.json', ...(forging?.includes('system/forger-new.json') === true ? ['system/forger-new.json'] : [])]
      const claimed = since === undefined ? [] : (forging ?? [])
      const documents = all.filter((path) => !claimed.includes(path)).map((path) => ({ path, content: `${JSON.stringify({ text: path })}\n` }))
      return { state: {}, documents, diagnostics: [], token: 'forged', ...(claimed.length === 0 ? {} : { kept: claimed }) }
    },
  }

  before(async () => {
    rig = await unitRig([keeper, forger, notesProvider('notes')])
    await machine('keeper-a', 'a 1\n')
    await machine('keeper-b', 'b 1\n')
    await machine('notes', 'notes 1\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await snapshot()
  })
  after(() => rig?.cleanup())
  afterEach(() => {
    forging = undefined
  })

  const snapshot = () => rig.container.resolve(SnapshotService).snapshot()
  const machine = (name: string, text: string) => writeFile(join(rig.root, `etc/${name}`), text)
  const inHead = (path: string) => {
    if (rig.git('ls-tree', '--name-only', 'HEAD', path) === '') return undefined
    return (JSON.parse(rig.git('show', `HEAD:${path}`)) as { text: string }).text
  }
  const lastCall = () => calls[calls.length - 1]

  it('an unchanged machine: the keeper is handed its token, keeps its documents, and nothing is committed; a change is written as before', async () => {
    const head = rig.git('rev-parse', 'HEAD')
    const unchanged = await snapshot()
    assert.deepEqual([unchanged.commit, unchanged.skipped], [undefined, 'unchanged'])
    assert.equal(lastCall()?.kept, true, 'the keeper kept its documents')
    assert.equal(unchanged.providers.find((p) => p.name === 'keeper')?.documents, 2, 'its kept files counted')
    assert.deepEqual([inHead('system/keeper/a.json'), inHead('system/keeper/b.json')], ['a 1\n', 'b 1\n'])
    assert.equal(rig.git('rev-parse', 'HEAD'), head)
    assert.equal(rig.git('status', '--porcelain'), '', 'the working twin is HEAD')
    await machine('keeper-a', 'a 2\n')
    const changed = await snapshot()
    assert.notEqual(changed.commit, undefined)
    assert.equal(lastCall()?.kept, false)
    assert.deepEqual([inHead('system/keeper/a.json'), inHead('system/keeper/b.json')], ['a 2\n', 'b 1\n'])
    assert.equal((await snapshot()).skipped, 'unchanged')
    assert.equal(lastCall()?.kept, true)
  })

  it('a twin reset to an earlier snapshot: its token is not handed back, and the machine is written over the old documents', async () => {
    const earlier = rig.git('rev-parse', 'HEAD')
    await machine('keeper-a', 'a 3\n')
    await snapshot()
    assert.equal(inHead('system/keeper/a.json'), 'a 3\n')
    // The twin back at the earlier snapshot (HEAD and the observed commit), the machine as at the later one.
    rig.git('reset', '--hard', earlier)
    rig.git('update-ref', 'refs/twinsync/observed', earlier)
    assert.equal(inHead('system/keeper/a.json'), 'a 2\n')
    const before = calls.length
    const result = await snapshot()
    assert.deepEqual(calls.slice(before).map((c) => c.since), [undefined], 'collected once, with no token for a commit it was not recorded with')
    assert.notEqual(result.commit, undefined, 'the machine differs from the earlier snapshot')
    assert.equal(inHead('system/keeper/a.json'), 'a 3\n')
  })

  it('a twin reset to an earlier snapshot while the machine is collected: the claim is not kept, the keeper is collected again', async () => {
    const earlier = rig.git('rev-parse', 'HEAD~1')
    assert.equal((await snapshot()).skipped, 'unchanged')
    assert.equal(inHead('system/keeper/a.json'), 'a 3\n')
    whileCollecting = () => {
      rig.git('reset', '--hard', earlier)
      rig.git('update-ref', 'refs/twinsync/observed', earlier)
    }
    const before = calls.length
    await snapshot()
    assert.deepEqual(calls.slice(before).map((c) => c.kept), [true, false], 'kept against the recorded commit, then collected again')
    assert.equal(inHead('system/keeper/a.json'), 'a 3\n', 'the machine written over the earlier snapshot\'s document')
  })

  it('a person\'s edit of a kept document in the working twin stays pending through a snapshot that keeps it', async () => {
    assert.equal((await snapshot()).skipped, 'unchanged')
    const edited = `${JSON.stringify({ text: 'wanted\n' })}\n`
    await writeFile(join(rig.twinDir, 'system/keeper/a.json'), edited)
    const result = await snapshot()
    assert.equal(lastCall()?.kept, true)
    assert.deepEqual(result.pending, ['system/keeper/a.json'])
    assert.equal(await readFile(join(rig.twinDir, 'system/keeper/a.json'), 'utf8'), edited, 'the edit is still in the working twin')
    assert.equal(inHead('system/keeper/a.json'), 'a 3\n')
    rig.git('checkout', 'HEAD', '--', 'system/keeper/a.json')
    assert.deepEqual((await snapshot()).pending, [])
  })

  it('a forged claim of another provider\'s folder keeps nothing of it: a document its owner no longer makes is removed', async () => {
    assert.equal((await snapshot()).skipped, 'unchanged', 'the forger\'s token is recorded')
    forging = ['system/keeper/']
    await rm(join(rig.root, 'etc/keeper-b'))
    const result = await snapshot()
    assert.notEqual(result.commit, undefined)
    assert.equal(lastCall()?.kept, false)
    assert.equal(inHead('system/keeper/b.json'), undefined, 'b.json went with its machine file')
    assert.equal(inHead('system/keeper/a.json'), 'a 3\n')
    await machine('keeper-b', 'b 1\n')
    await snapshot()
  })

  it('a forged claim of another provider\'s document is refused: the forger is collected again, the document its owner no longer makes removed', async () => {
    assert.equal((await snapshot()).skipped, 'unchanged')
    forging = ['system/keeper/b.json', 'system/forger.json']
    await rm(join(rig.root, 'etc/keeper-b'))
    const before = forgerCalls.length
    const result = await snapshot()
    assert.deepEqual(forgerCalls.slice(before), ['forged', undefined], 'collected again without its token')
    assert.notEqual(result.commit, undefined)
    assert.equal(inHead('system/keeper/b.json'), undefined)
    assert.equal(inHead('system/forger.json'), 'system/forger.json', 'its own document, made when it was collected again')
    await machine('keeper-b', 'b 1\n')
    forging = undefined
    await snapshot()
  })

  it('a document the secret screen changed: no token recorded, so it is made and screened again, and the warning said, every snapshot', async () => {
    await machine('keeper-a', `token = ghp_${'a'.repeat(36)}\n`)
    const first = await snapshot()
    assert.ok(first.diagnostics.some((d) => d.code === 'SECRET_REDACTED' && d.provider === 'keeper'))
    const before = calls.length
    const again = await snapshot()
    assert.deepEqual(calls.slice(before).map((c) => c.since), [undefined], 'no token to keep against')
    assert.ok(again.diagnostics.some((d) => d.code === 'SECRET_REDACTED' && d.provider === 'keeper'), 'still said')
    assert.doesNotMatch(rig.git('show', 'HEAD:system/keeper/a.json'), /ghp_a/)
    await machine('keeper-a', 'a 3\n')
    await snapshot()
  })

  it('a claim of a document HEAD does not hold is refused: the provider is collected again and its document made (nothing enters unmade or unscreened)', async () => {
    assert.equal((await snapshot()).skipped, 'unchanged')
    assert.equal(inHead('system/forger-new.json'), undefined)
    forging = ['system/forger.json', 'system/forger-new.json']
    const before = forgerCalls.length
    const result = await snapshot()
    assert.deepEqual(forgerCalls.slice(before), ['forged', undefined])
    assert.notEqual(result.commit, undefined)
    assert.equal(inHead('system/forger-new.json'), 'system/forger-new.json')
    assert.equal(inHead('system/forger.json'), 'system/forger.json')
  })
})

/**
 * A provider that keeps some of its documents by name and makes the others (as the files
 * provider does with a split manifest's unchanged parts, session 26): the kept names are looked
 * up in a map (keptNames); a document it neither makes nor names goes.
 */
describe('kept parts: documents kept by name beside documents made', function () {
  this.timeout(60_000)
  let rig: UnitRig
  const NAMES = ['x', 'y', 'z'] as const
  const parter: Provider = {
    name: 'parter',
    version: '1.0.0',
    category: 'startup',
    description: 'each document kept while its machine file stays the same',
    twinPaths: ['system/parter/'],
    detect: async () => ({ detected: true, diagnostics: [] }),
    async collect({ ctx, since }) {
      const texts = new Map<string, string>()
      for (const name of NAMES) {
        const text = await ctx.host.readTextIfExists(`/etc/parter-${name}`)
        if (text !== undefined) texts.set(name, text)
      }
      const pieces = NAMES.map((name) => (texts.has(name) ? createHash('sha256').update(texts.get(name) as string).digest('hex') : 'none'))
      const token = pieces.join('.')
      const before = since?.split('.')
      const kept: string[] = []
      const documents = []
      for (const [i, name] of NAMES.entries()) {
        if (!texts.has(name)) continue
        const path = `system/parter/${name}.json`
        if (before?.[i] === pieces[i]) kept.push(path)
        else documents.push({ path, content: `${JSON.stringify({ text: texts.get(name) })}\n` })
      }
      return { state: {}, documents, diagnostics: [], token, ...(kept.length === 0 ? {} : { kept }) }
    },
  }
  const machine = (name: string, text: string) => writeFile(join(rig.root, `etc/parter-${name}`), text)
  const snapshot = () => rig.container.resolve(SnapshotService).snapshot()
  const inHead = (path: string) => (rig.git('ls-tree', '--name-only', 'HEAD', path) === '' ? undefined : (JSON.parse(rig.git('show', `HEAD:${path}`)) as { text: string }).text)

  before(async () => {
    rig = await unitRig([parter])
    for (const name of NAMES) await machine(name, `${name} 1\n`)
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await snapshot()
  })
  after(() => rig?.cleanup())

  it('one document changed, one gone, one kept by name: the change written, the gone one removed, the kept one as HEAD held it', async () => {
    assert.equal((await snapshot()).skipped, 'unchanged')
    await machine('x', 'x 2\n')
    await rm(join(rig.root, 'etc/parter-z'))
    // The kept document's owner is asked once (refusedClaim), not again by the removals' filter (keptNames).
    Object.assign(ownerAsked, { path: 'system/parter/y.json', times: 0 })
    const result = await snapshot().finally(() => (ownerAsked.path = undefined))
    assert.notEqual(result.commit, undefined)
    assert.equal(ownerAsked.times, 1, "the kept document's owner asked once")
    assert.deepEqual(NAMES.map((n) => inHead(`system/parter/${n}.json`)), ['x 2\n', 'y 1\n', undefined])
    assert.equal(rig.git('status', '--porcelain'), '', 'the working twin is HEAD')
    assert.equal((await snapshot()).skipped, 'unchanged')
  })
})

describe('kept parts: the record is a cache record', function () {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kept-record-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  const COMMIT = 'a'.repeat(40)

  it('is written without an fsync of the file or its folder (session 44), and read back', async () => {
    // Every fsync Node can make: the promise API's FileHandle.sync/datasync (the SDK's atomic
    // write, which wrote it until session 44), and the synchronous and callback ones.
    const probe = await open(join(dir, 'probe'), 'w')
    const handle = Object.getPrototypeOf(probe) as Record<'sync' | 'datasync', (...args: unknown[]) => unknown>
    await probe.close()
    const synced: string[] = []
    const originals = { sync: handle.sync, datasync: handle.datasync, fsyncSync: fs.fsyncSync, fdatasyncSync: fs.fdatasyncSync, fsync: fs.fsync, fdatasync: fs.fdatasync }
    handle.sync = function (this: unknown, ...args: unknown[]) {
      synced.push('FileHandle.sync')
      return originals.sync.apply(this, args)
    }
    handle.datasync = function (this: unknown, ...args: unknown[]) {
      synced.push('FileHandle.datasync')
      return originals.datasync.apply(this, args)
    }
    for (const name of ['fsyncSync', 'fdatasyncSync', 'fsync', 'fdatasync'] as const) {
      const original = originals[name] as (...args: unknown[]) => unknown
      ;(fs as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        synced.push(name)
        return original(...args)
      }
    }
    syncBuiltinESMExports()
    try {
      await writeKeptRecord(join(dir, 'cache'), COMMIT, { keeper: 'token-1', apt: 'token-2' })
    } finally {
      Object.assign(handle, { sync: originals.sync, datasync: originals.datasync })
      Object.assign(fs, { fsyncSync: originals.fsyncSync, fdatasyncSync: originals.fdatasyncSync, fsync: originals.fsync, fdatasync: originals.fdatasync })
      syncBuiltinESMExports()
    }
    assert.deepEqual(synced, [])
    assert.deepEqual(readKeptRecord(join(dir, 'cache')), { format: 1, commit: COMMIT, tokens: { apt: 'token-2', keeper: 'token-1' } })
    assert.deepEqual(await readdir(join(dir, 'cache')), ['kept-parts.json'], 'no temporary file left beside it')
  })

  it('what a power loss can leave of one never synced is no record: none, empty, zeros, a prefix of it', async () => {
    const cache = join(dir, 'cache')
    await writeKeptRecord(cache, COMMIT, { keeper: 'token-1' })
    const whole = await readFile(join(cache, 'kept-parts.json'))
    assert.notEqual(readKeptRecord(cache), undefined)
    for (const left of [Buffer.alloc(0), Buffer.alloc(whole.length), ...[1, 20, whole.length - 1].map((n) => whole.subarray(0, n))]) {
      await writeFile(join(cache, 'kept-parts.json'), left)
      assert.equal(readKeptRecord(cache), undefined, `${left.length} bytes left`)
    }
    await rm(join(cache, 'kept-parts.json'))
    assert.equal(readKeptRecord(cache), undefined)
  })
})
