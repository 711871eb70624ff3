import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PathClaims, partOf, partOfTwinPath, type CollectRequest, type Provider } from '@twinsync/sdk'
import { headPaths, partsClaimOf, readKeptRecord, refusedPartsClaim, writeKeptRecord, type PartsClaim } from '../src/snapshot/kept-parts.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { BY_NAME, ownerAsked, ownerOfTwinPath, twinPathOwners } from '../src/snapshot/twin-ownership.js'
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

/** A provider of the startup category that is always detected. */
function startupProvider(name: string, description: string, twinPaths: string[], collect: Provider['collect']): Provider {
  return { name, version: '1.0.0', category: 'startup', description, twinPaths, detect: async () => ({ detected: true, diagnostics: [] }), collect }
}

/** The machine files /etc/PREFIX-NAME's texts, and a token of one piece a name (a SHA-256 of its text, or `none`). */
async function machinePieces(ctx: CollectRequest['ctx'], prefix: string, names: readonly string[]): Promise<{ texts: Map<string, string>; pieces: string[]; token: string }> {
  const texts = new Map<string, string>()
  for (const name of names) {
    const text = await ctx.host.readTextIfExists(`/etc/${prefix}-${name}`)
    if (text !== undefined) texts.set(name, text)
  }
  const pieces = names.map((name) => (texts.has(name) ? createHash('sha256').update(texts.get(name) as string).digest('hex') : 'none'))
  return { texts, pieces, token: pieces.join('.') }
}

/**
 * A provider that keeps some of its documents by name and makes the others (as the files
 * provider does with a split manifest's unchanged parts, session 26): the kept names are looked
 * up in a map (keptNames); a document it neither makes nor names goes.
 */
describe('kept parts: documents kept by name beside documents made', function () {
  this.timeout(60_000)
  let rig: UnitRig
  const NAMES = ['x', 'y', 'z'] as const
  const parter = startupProvider('parter', 'each document kept while its machine file stays the same', ['system/parter/'], async ({ ctx, since }) => {
    const { texts, pieces, token } = await machinePieces(ctx, 'parter', NAMES)
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
  })
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

/**
 * A claim by part (CollectResult.keptParts, session 44): counted against HEAD in one pass
 * (headPaths), refused when a count differs or the claim is malformed, another provider's file
 * never counted nor kept on the claimer's word.
 */
describe('kept parts: a claim by part checked by its counts', () => {
  const folder = 'filesystem/'
  // Two folders in two parts (whatever they are), and a third folder of another provider's in one of them.
  const A = '/etc/a'
  const partA = partOf(`${A}/x`)
  const B = ['/etc/b', '/etc/bb', '/etc/bbb', '/etc/bbbb'].find((f) => partOf(`${f}/x`) !== partA) as string
  const partB = partOf(`${B}/x`)
  const OTHER = ['/etc/o1', '/etc/o2', '/etc/o3', '/etc/o4', '/etc/o5', '/etc/o6', '/etc/o7', '/etc/o8'].map((f) => [f, partOf(`${f}/x`)] as const)
  const paths = [`filesystem${A}/1`, `filesystem${A}/2`, `filesystem${B}/1`, 'system/files/manifest.json', 'system/other.json']
  const owners: Record<string, string> = { 'system/other.json': 'other' }
  const ownerOf = (path: string) => owners[path] ?? (path.startsWith('filesystem/etc/o') ? 'other' : 'files')
  /** Every path asked by name (headPaths asks a folder first). */
  const askOwners = { ownerOf: (path: string) => ({ name: ownerOf(path) }) as Provider, folderOwner: (): typeof BY_NAME => BY_NAME }
  const claimOf = (parts: unknown, inFolder: unknown = folder) => partsClaimOf({ state: {}, documents: [], diagnostics: [], keptParts: { folder: inFolder, parts } as never })
  const check = (parts: unknown, holds = paths) => {
    const claim = claimOf(parts)
    if (typeof claim !== 'object') return claim
    return refusedPartsClaim('files', claim, headPaths(holds, askOwners, new Map([['files', claim]])))
  }

  it('the counts HEAD holds: taken, and the paths of the parts named marked kept (not those of parts not named)', () => {
    const claim = claimOf([{ part: partA, files: 2 }]) as PartsClaim
    assert.equal(typeof claim, 'object')
    const head = headPaths(paths, askOwners, new Map([['files', claim]]))
    assert.equal(refusedPartsClaim('files', claim, head), undefined)
    assert.deepEqual([...head.inClaimedPart], [1, 1, 0, 0, 0])
    assert.deepEqual(head.owners, ['files', 'files', 'files', 'files', 'other'])
    assert.equal(check([{ part: partA, files: 2 }, { part: partB, files: 1 }]), undefined)
    const empty = [...Array(64).keys()].find((p) => p !== partA && p !== partB)
    assert.equal(check([{ part: empty, files: 0 }]), undefined, 'a part HEAD holds none of, claimed with 0')
  })

  it('a count short (a kept file HEAD lacks) or over (a file HEAD holds that the provider does not know of): refused', () => {
    assert.match(check([{ part: partA, files: 3 }]) ?? '', /holds 2 of its files in HEAD, it said 3/)
    assert.match(check([{ part: partA, files: 1 }]) ?? '', /holds 2 of its files in HEAD, it said 1/)
    assert.match(check([{ part: partA, files: 2 }, { part: partB, files: 0 }]) ?? '', new RegExp(`part ${partB} of filesystem/ holds 1 of its files in HEAD, it said 0`))
  })

  it("another provider's file in a claimed part is not counted (a count that includes it is refused) and not marked kept", () => {
    const [otherFolder] = OTHER.find(([, part]) => part === partA) ?? OTHER.find(([, part]) => part !== partB) ?? []
    const otherPath = `filesystem${otherFolder}/1`
    const part = partOf(`${otherFolder}/x`)
    const holds = [...paths, otherPath]
    const mine = holds.filter((p) => p.startsWith(folder) && ownerOf(p) === 'files' && partOf(p.slice(folder.length - 1)) === part).length
    assert.equal(check([{ part, files: mine }], holds), undefined)
    assert.match(check([{ part, files: mine + 1 }], holds) ?? '', /it said/)
    const claim = claimOf([{ part, files: mine }]) as PartsClaim
    const head = headPaths(holds, askOwners, new Map([['files', claim]]))
    assert.equal(head.inClaimedPart[holds.indexOf(otherPath)], 0)
    assert.equal(head.owners[holds.indexOf(otherPath)], 'other')
  })

  it('a forged or malformed claim is refused before anything is counted', () => {
    assert.match(check([{ part: 64, files: 0 }]) ?? '', /names the part 64/)
    assert.match(check([{ part: -1, files: 0 }]) ?? '', /names the part -1/)
    assert.match(check([{ part: 1.5, files: 0 }]) ?? '', /names the part 1.5/)
    assert.match(check([{ part: '3', files: 0 }]) ?? '', /names the part "3"/)
    assert.match(check([{ part: partA, files: 2 }, { part: partA, files: 2 }]) ?? '', new RegExp(`names part ${partA} twice`))
    assert.match(check([{ part: partA, files: -2 }]) ?? '', /holds -2 files/)
    assert.match(check([{ part: partA, files: 2.5 }]) ?? '', /holds 2.5 files/)
    assert.match(check([null]) ?? '', /names the part undefined/)
    assert.match(check({ 0: 1 }) ?? '', /no list of parts/)
    for (const bad of ['filesystem', 'facts/', '/etc/', 'filesystem/../system/', 'filesystem//', '', 7]) {
      assert.match(String(claimOf([{ part: partA, files: 2 }], bad)), /names the folder/, `folder ${JSON.stringify(bad)}`)
    }
    assert.equal(String(partsClaimOf({ state: {}, documents: [], diagnostics: [], keptParts: 'all' as never })), 'its keptParts is not an object')
  })

  it("the part of a twin path is the SDK's partOf of its path below the folder", () => {
    assert.equal(partOfTwinPath('filesystem/', `filesystem${A}/1`), partOf(`${A}/1`))
    assert.equal(partOfTwinPath('system/x/', 'system/x/top.json'), partOf('/top.json'))
    assert.equal(partOf('/top.json'), partOf('/other'))
    // FNV-1a of "/etc" (32 bits), modulo 64: fixed by the contract.
    let hash = 0x811c9dc5
    for (const c of '/etc') hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0
    assert.equal(partOf('/etc/passwd'), hash % 64)
  })
})

/**
 * HEAD's paths a folder at a time (headPaths, session 50): the owners, parts, counts and kept marks
 * a path at a time would give (ownerOfTwinPath, partOfTwinPath), in the index's order or any
 * other, with claimed files beside the default owner's in one folder; and a folder no claim
 * reaches asks no file's owner.
 */
describe('kept parts: HEAD\'s paths taken a folder at a time', () => {
  const provider = (name: string, twinPaths: string[] = []) => startupProvider(name, name, twinPaths, async () => ({ state: {}, documents: [], diagnostics: [] }))
  const providers = [provider('os', ['system/os.json']), provider('files', ['system/files/']), provider('systemd'), provider('odd'), provider('byparts', ['system/byparts/'])]
  const claims = new PathClaims()
  claims.claim('systemd', '/etc/systemd/system/*.wants/*')
  claims.claim('odd', '/etc/crontab') // one file, in a folder whose other files are the default owner's
  claims.claim('odd', '/etc/a+b/x?') // characters an expression reads otherwise
  claims.claim('odd', '/etc/deep**') // a `**` inside a name: a folder below /etc/deepest too
  claims.claim('gone', '/etc/unloaded/*') // a provider not loaded: its files have no owner
  const NAMES = ['etc', 'crontab', 'systemd', 'system', 'a.wants', 'a+b', 'aab', 'x1', 'deepest', 'unloaded', 'é', 'scale-pkg-0001', 'scale-pkg-0002', 'y', 'byparts', 'files', 'twin.json']
  /** A twin of `count` random paths, and some the cases need: sorted as the index sorts them (bytes), or not. */
  const twinOf = (count: number, seed: number): string[] => {
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const pick = () => NAMES[Math.floor(next() * NAMES.length)] as string
    const tops = ['filesystem', 'filesystem', 'filesystem', 'system', 'system/byparts', 'plans', '']
    const paths = new Set(['twin.json', 'filesystem/etc/crontab', 'filesystem/etc/hosts', 'filesystem/etc/a+b/x1', 'filesystem/etc/aab/x1', 'filesystem/etc/deepest/y/z', 'system/os.json', 'system/files/manifest.json'])
    while (paths.size < count) {
      const top = tops[Math.floor(next() * tops.length)] as string
      const names = Array.from({ length: 1 + Math.floor(next() * 4) }, pick)
      const path = [top, ...names].filter((n) => n !== '').join('/')
      // No path is also a folder (git holds one or the other).
      if (![...paths].some((p) => p.startsWith(`${path}/`) || path.startsWith(`${p}/`))) paths.add(path)
    }
    return [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  }
  const claimIn = (folder: string, kept: (part: number) => boolean): PartsClaim => ({ folder, files: Int32Array.from({ length: 64 }, (_, part) => (kept(part) ? 0 : -1)) })
  /** What a path at a time gives. */
  const oneByOne = (paths: readonly string[], byPart: ReadonlyMap<string, PartsClaim>) => {
    const listed = paths.filter((p) => p.startsWith('filesystem/') || p.startsWith('system/'))
    const owners = listed.map((p) => ownerOfTwinPath(p, providers, claims)?.name)
    const counts = new Map([...byPart.keys()].map((name) => [name, new Array<number>(64).fill(0)]))
    const inClaimedPart = listed.map((p, i) => {
      const claim = byPart.get(owners[i] as string)
      if (claim === undefined || !p.startsWith(claim.folder)) return 0
      const part = partOfTwinPath(claim.folder, p)
      const counted = counts.get(owners[i] as string) as number[]
      counted[part] = (counted[part] as number) + 1
      return claim.files[part] === -1 ? 0 : 1
    })
    return { paths: listed, owners, inClaimedPart, counts: Object.fromEntries(counts) }
  }
  const asPlain = (head: ReturnType<typeof headPaths>) => ({ paths: head.paths, owners: head.owners, inClaimedPart: [...head.inClaimedPart], counts: Object.fromEntries([...head.counts].map(([name, c]) => [name, [...c]])) })

  it('gives what a path at a time gives, from the draft\'s entries in the index\'s order or a list in any order', () => {
    for (const seed of [1, 50, 2026]) {
      const paths = twinOf(600, seed)
      const byPart = new Map([
        ['files', claimIn('filesystem/', (part) => part % 5 !== 0)],
        ['byparts', claimIn('system/byparts/', (part) => part % 2 === 0)],
      ])
      const expected = oneByOne(paths, byPart)
      assert.ok(expected.owners.includes('odd') && expected.owners.includes(undefined) && expected.inClaimedPart.includes(0) && expected.inClaimedPart.includes(1), 'the cases are there')
      const owners = twinPathOwners(providers, claims)
      assert.deepEqual(asPlain(headPaths(new Map(paths.map((p) => [p, {}])), owners, byPart)), expected, `seed ${seed}, the index's order`)
      const shuffled = [...paths].sort((a, b) => (a.length * 7919 + a.charCodeAt(a.length - 1)) % 101 - (b.length * 7919 + b.charCodeAt(b.length - 1)) % 101)
      assert.deepEqual(asPlain(headPaths(shuffled, owners, byPart)), oneByOne(shuffled, byPart), `seed ${seed}, another order`)
      const none = new Map<string, PartsClaim>()
      assert.deepEqual(asPlain(headPaths(paths, owners, none)), oneByOne(paths, none), `seed ${seed}, no claim by part`)
    }
  })

  it('asks no owner of a file in a folder no claim reaches, and asks each file of a folder one does', () => {
    const folders = Array.from({ length: 40 }, (_, i) => `filesystem/etc/scale/scale-pkg-${String(i).padStart(4, '0')}/`)
    const paths = [...folders.flatMap((f) => Array.from({ length: 25 }, (_, i) => `${f}setting-${i}.conf`)), 'filesystem/etc/crontab', 'filesystem/etc/hosts', 'filesystem/etc/systemd/system/a.wants/b', 'filesystem/etc/systemd/system/a.wants/c']
    const owners = twinPathOwners(providers, claims)
    const asked: string[] = []
    const counting = { ownerOf: (path: string) => (asked.push(path), owners.ownerOf(path)), folderOwner: owners.folderOwner }
    const byPart = new Map([['files', claimIn('filesystem/', () => true)]])
    const head = headPaths(paths, counting, byPart)
    assert.deepEqual(asked, paths.slice(-4), 'only the files of /etc and of the folder a claim reaches')
    assert.deepEqual(asPlain(head), oneByOne(paths, byPart))
    assert.equal([...(head.counts.get('files') as Int32Array)].reduce((a, b) => a + b, 0), 1000 + 1, "the default owner's files, and /etc/hosts")
  })
})

/**
 * A provider that keeps its documents by part (CollectResult.keptParts, session 44) beside one
 * that writes in the same folder: system/byparts/<folder>/<name>.json for x, y and z, each
 * folder in a part of its own (partOf, the SDK's), y's in the part of system/neighbour/n.json,
 * the neighbour's document (there while /etc/neighbour exists). The claim is under `system/`, so
 * the neighbour's file lies in a part it keeps.
 */
describe('kept parts: documents kept by part beside documents made', function () {
  this.timeout(60_000)
  let rig: UnitRig
  const NAMES = ['x', 'y', 'z'] as const
  const FOLDER = 'system/'
  const partIn = (twinPath: string) => partOfTwinPath(FOLDER, twinPath)
  const NEIGHBOUR = 'system/neighbour/n.json'
  // Each name's folder: y's in the neighbour's part, x's and z's in parts of their own.
  const folders = new Map<string, string>()
  const taken = new Set<number>()
  for (const name of NAMES) {
    for (let i = 0; ; i++) {
      const path = `system/byparts/${name}${i}/${name}.json`
      const part = partIn(path)
      if (name === 'y' ? part !== partIn(NEIGHBOUR) : part === partIn(NEIGHBOUR) || taken.has(part)) continue
      taken.add(part)
      folders.set(name, path)
      break
    }
  }
  const docPath = (name: string) => folders.get(name) as string
  /** Set: added to the first count claimed (a provider wrong about HEAD, or lying). */
  let forge = 0
  const calls: Array<{ since: string | undefined; parts: number[] }> = []
  const byparts = startupProvider('byparts', 'its documents kept by part while their machine files stay the same', ['system/byparts/'], async ({ ctx, since }) => {
    const { texts, pieces, token } = await machinePieces(ctx, 'byparts', NAMES)
    const before = since?.split('.')
    const parts: Array<{ part: number; files: number }> = []
    const documents = []
    for (const [i, name] of NAMES.entries()) {
      if (!texts.has(name)) continue
      if (before?.[i] === pieces[i]) parts.push({ part: partIn(docPath(name)), files: 1 })
      else documents.push({ path: docPath(name), content: `${JSON.stringify({ text: texts.get(name) })}\n` })
    }
    if (parts.length > 0) (parts[0] as { files: number }).files += forge
    calls.push({ since, parts: parts.map((p) => p.part) })
    return { state: {}, documents, diagnostics: [], token, ...(parts.length === 0 ? {} : { keptParts: { folder: FOLDER, parts } }) }
  })
  const neighbour = startupProvider('neighbour', 'one document while /etc/neighbour exists', ['system/neighbour/'], async ({ ctx }) => {
    const text = await ctx.host.readTextIfExists('/etc/neighbour')
    return { state: {}, documents: text === undefined ? [] : [{ path: NEIGHBOUR, content: `${JSON.stringify({ text })}\n` }], diagnostics: [] }
  })
  const machine = (name: string, text: string) => writeFile(join(rig.root, `etc/byparts-${name}`), text)
  const snapshot = () => rig.container.resolve(SnapshotService).snapshot()
  const inHead = (path: string) => (rig.git('ls-tree', '--name-only', 'HEAD', path) === '' ? undefined : (JSON.parse(rig.git('show', `HEAD:${path}`)) as { text: string }).text)
  const all = () => NAMES.map((n) => inHead(docPath(n)))

  beforeEach(async () => {
    rig = await unitRig([byparts, neighbour])
    for (const name of NAMES) await machine(name, `${name} 1\n`)
    await writeFile(join(rig.root, 'etc/neighbour'), 'n 1\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await snapshot()
    forge = 0
  })
  afterEach(() => rig?.cleanup())

  it('one document changed, one gone, one kept by part: the change written, the gone one removed, the kept one as HEAD held it, its owner asked once', async () => {
    assert.equal((await snapshot()).skipped, 'unchanged')
    await machine('x', 'x 2\n')
    await rm(join(rig.root, 'etc/byparts-z'))
    Object.assign(ownerAsked, { path: docPath('y'), times: 0 })
    const before = calls.length
    const result = await snapshot().finally(() => (ownerAsked.path = undefined))
    assert.deepEqual(calls.slice(before).map((c) => [c.since !== undefined, c.parts]), [[true, [partIn(docPath('y'))]]], 'collected once, with its token, y kept by its part')
    assert.notEqual(result.commit, undefined)
    assert.equal(ownerAsked.times, 1, "the kept document's owner asked once (the count's pass; the removals read it there)")
    assert.deepEqual(all(), ['x 2\n', 'y 1\n', undefined])
    assert.equal(result.providers.find((p) => p.name === 'byparts')?.documents, 2, 'one made, one kept')
    assert.equal(inHead(NEIGHBOUR), 'n 1\n')
    assert.equal(rig.git('status', '--porcelain'), '', 'the working twin is HEAD')
    assert.equal((await snapshot()).skipped, 'unchanged')
  })

  it('a count HEAD does not hold: the claim is refused, the provider collected again without its token and its documents made', async () => {
    assert.equal((await snapshot()).skipped, 'unchanged')
    for (const wrong of [1, -1]) {
      const x = `x ${wrong > 0 ? 2 : 3}\n`
      await machine('x', x)
      forge = wrong
      const before = calls.length
      const result = await snapshot()
      assert.deepEqual(calls.slice(before).map((c) => c.since === undefined), [false, true], `count ${wrong > 0 ? 'over' : 'short'}: kept against its token, then collected again without it`)
      assert.deepEqual(calls.slice(before).map((c) => c.parts.length > 0), [true, false])
      assert.deepEqual(all(), [x, 'y 1\n', 'z 1\n'])
      assert.equal(result.providers.find((p) => p.name === 'byparts')?.documents, 3, 'all made')
    }
  })

  it("another provider's file in a kept part is not kept on the claimer's word: its owner no longer makes it, it goes", async () => {
    assert.equal(partIn(NEIGHBOUR), partIn(docPath('y')))
    assert.equal((await snapshot()).skipped, 'unchanged')
    await machine('x', 'x 2\n')
    await rm(join(rig.root, 'etc/neighbour'))
    const before = calls.length
    const result = await snapshot()
    assert.deepEqual(calls.slice(before).map((c) => c.parts), [[partIn(docPath('y')), partIn(docPath('z'))]], 'y and z kept by part, collected once')
    assert.notEqual(result.commit, undefined)
    assert.equal(inHead(NEIGHBOUR), undefined, "the neighbour's document went with its machine file")
    assert.deepEqual(all(), ['x 2\n', 'y 1\n', 'z 1\n'])
  })
})
