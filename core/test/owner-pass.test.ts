import { strict as assert } from 'node:assert'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { PathClaims, pathPatternToRegExp, type Provider } from '@twinsync/sdk'
import { builtinProviders } from '../src/providers/builtin-providers.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { Tokens, registerValue } from '../src/tokens.js'
import { BY_NAME, ownerOfTwinPath, twinPathOwners } from '../src/snapshot/twin-ownership.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * The owner pass over many twin paths (twin-ownership.ts, twinPathOwners; speed, session 47):
 * the same owner as ownerOfTwinPath asks one path at a time, and the removals' files kept whole
 * without asking (unclaimedUnder) exactly the default owner's unclaimed ones.
 */
const provider = (name: string, twinPaths: string[] = []): Provider => ({
  name,
  version: '1.0.0',
  category: 'startup',
  description: name,
  twinPaths,
  detect: async () => ({ detected: true, diagnostics: [] }),
  collect: async () => ({ state: {}, documents: [], diagnostics: [] }),
})

describe('owner pass: the owners of many twin paths at once', () => {
  const providers = [provider('os', ['system/os.json']), provider('cron', ['system/cron/']), provider('files', ['system/files/']), provider('systemd'), provider('odd'), provider('cron', ['system/second/'])]
  const claims = new PathClaims()
  claims.claim('cron', '/var/spool/cron/crontabs/*')
  claims.claim('systemd', '/etc/systemd/system/**')
  claims.claim('odd', '/etc/crontab') // one file, in a folder whose other files are the default owner's
  claims.claim('odd', '/etc/a+b/[x]?.conf') // characters an expression reads otherwise
  claims.claim('odd', '/etc/(g)/**/k*')
  claims.claim('gone', '/etc/unloaded/*') // a provider not loaded: its files have no owner
  /** Paths a per-folder answer, a prefix test or an unescaped pattern would get wrong, and the twin's own files. */
  const edges = [
    'filesystem/etc/crontab',
    'filesystem/etc/crontab2',
    'filesystem/etc/crontab/x',
    'filesystem/etc/hosts',
    'filesystem/etc/a+b/[x]1.conf',
    'filesystem/etc/a+b/[x]12.conf',
    'filesystem/etc/aab/x1.conf',
    'filesystem/etc/a+b/x1.conf',
    'filesystem/etc/(g)/k',
    'filesystem/etc/(g)/d/e/kk',
    'filesystem/etc/g/d/kk',
    'filesystem/etc/systemd/system/a.service',
    'filesystem/etc/systemd/system',
    'filesystem/etc/systemd/systemx/a',
    'filesystem/var/spool/cron/crontabs/root',
    'filesystem/var/spool/cron/crontabs/root/deeper',
    'filesystem/etc/unloaded/x',
    'filesystem/etc/new\nline',
    'filesystem/etc/é/ü.conf',
    'filesystem',
    'filesystemetc/x',
    'filesystem/',
    'system/os.json',
    'system/cron/x.json',
    'system/second/x.json',
    'system/files/manifest.json',
    'twin.json',
    'plans/x.md',
  ]

  it('gives ownerOfTwinPath\'s owner, the same provider object, for edge paths and random ones', () => {
    const owners = twinPathOwners(providers, claims)
    let seed = 47
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const names = ['etc', 'crontab', 'systemd', 'system', 'a+b', '[x]1.conf', '(g)', 'k', 'var', 'spool', 'cron', 'crontabs', 'unloaded', 'x', '']
    const random = Array.from({ length: 3000 }, () => `filesystem/${Array.from({ length: 1 + Math.floor(next() * 5) }, () => names[Math.floor(next() * names.length)]).join('/')}`)
    const differ = [...edges, ...random].filter((path) => owners.ownerOf(path) !== ownerOfTwinPath(path, providers, claims))
    assert.deepEqual(differ, [])
    // The answers themselves, so that both cannot be wrong alike.
    const said = Object.fromEntries(edges.slice(0, 17).map((path) => [path, owners.ownerOf(path)?.name]))
    assert.deepEqual(said, {
      'filesystem/etc/crontab': 'odd',
      'filesystem/etc/crontab2': 'files',
      'filesystem/etc/crontab/x': 'files',
      'filesystem/etc/hosts': 'files',
      'filesystem/etc/a+b/[x]1.conf': 'odd',
      'filesystem/etc/a+b/[x]12.conf': 'files',
      'filesystem/etc/aab/x1.conf': 'files',
      'filesystem/etc/a+b/x1.conf': 'files',
      'filesystem/etc/(g)/k': 'files', // `**` is a folder or more: /etc/(g)/x/k
      'filesystem/etc/(g)/d/e/kk': 'odd',
      'filesystem/etc/g/d/kk': 'files',
      'filesystem/etc/systemd/system/a.service': 'systemd',
      'filesystem/etc/systemd/system': 'files',
      'filesystem/etc/systemd/systemx/a': 'files',
      'filesystem/var/spool/cron/crontabs/root': 'cron',
      'filesystem/var/spool/cron/crontabs/root/deeper': 'files',
      'filesystem/etc/unloaded/x': undefined,
    })
    assert.equal(owners.ownerOf('system/second/x.json'), providers[5], 'the second provider of a name, by its twin paths')
  })

  it("answers for a folder only where no claim reaches a file directly in it: then every such file's owner is the default one", () => {
    const owners = twinPathOwners(providers, claims)
    const folderOf = (path: string) => path.slice(0, path.lastIndexOf('/') + 1)
    let seed = 50
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const names = ['etc', 'crontab', 'systemd', 'system', 'a+b', 'aab', '[x]1.conf', '(g)', 'g', 'k', 'kk', 'var', 'spool', 'cron', 'crontabs', 'unloaded', 'x', 'é', '']
    const random = Array.from({ length: 3000 }, () => `filesystem/${Array.from({ length: 1 + Math.floor(next() * 5) }, () => names[Math.floor(next() * names.length)]).join('/')}`)
    const wrong = [...edges, ...random].filter((path) => {
      const said = owners.folderOwner(folderOf(path))
      return said !== BY_NAME && said !== ownerOfTwinPath(path, providers, claims)
    })
    assert.deepEqual(wrong, [])
    const answers = Object.fromEntries(
      ['filesystem/etc/hosts-folder/', 'filesystem/etc/aab/', 'filesystem/etc/g/d/', 'filesystem/usr/', 'filesystem/var/', 'filesystem/etc/', 'filesystem/', 'filesystem/etc/a+b/', 'filesystem/etc/(g)/', 'filesystem/etc/(g)/d/e/', 'filesystem/etc/systemd/', 'filesystem/etc/systemd/system/x/', 'filesystem/var/spool/cron/crontabs/', 'filesystem/etc/unloaded/', 'system/files/', 'system/', ''].map((folder) => {
        const said = owners.folderOwner(folder)
        return [folder, said === BY_NAME ? 'by name' : said?.name]
      }),
    )
    assert.deepEqual(answers, {
      'filesystem/etc/hosts-folder/': 'files',
      'filesystem/etc/aab/': 'files', // /etc/a+b/ read as written
      'filesystem/etc/g/d/': 'files',
      'filesystem/usr/': 'files',
      'filesystem/var/': 'by name', // a claim's start goes on below it (crontabs)
      'filesystem/etc/': 'by name', // /etc/crontab is claimed
      'filesystem/': 'by name',
      'filesystem/etc/a+b/': 'by name',
      'filesystem/etc/(g)/': 'by name',
      'filesystem/etc/(g)/d/e/': 'by name', // `**`: any depth below (g)
      'filesystem/etc/systemd/': 'by name', // the claim's start goes on below it
      'filesystem/etc/systemd/system/x/': 'by name',
      'filesystem/var/spool/cron/crontabs/': 'by name',
      'filesystem/etc/unloaded/': 'by name',
      'system/files/': 'by name', // twin paths, not mirrored files: their owners by their names
      'system/': 'by name',
      '': 'by name',
    })
    const inside = twinPathOwners(providers, (() => {
      const c = new PathClaims()
      c.claim('odd', '/etc/deep**x') // a `**` inside a name: /etc/deepest/a/x too
      return c
    })())
    assert.equal(inside.folderOwner('filesystem/etc/deepest/a/'), BY_NAME)
    assert.equal(inside.folderOwner('filesystem/etc/'), BY_NAME, '/etc/deepx')
    assert.equal(inside.folderOwner('filesystem/etc/dee/'), providers[2], 'not a start of /etc/deep')
    assert.equal(inside.folderOwner('filesystem/etc/other/'), providers[2])
    assert.equal(twinPathOwners(providers, new PathClaims()).folderOwner('filesystem/etc/'), providers[2], 'no claims')
    assert.equal(twinPathOwners([provider('os')], claims).folderOwner('filesystem/etc/aab/'), undefined, 'the default owner not loaded: no owner')
  })

  it('keeps without asking only what the default owner owns under the folder, no claimed file, no other folder', () => {
    const owners = twinPathOwners(providers, claims)
    assert.equal(owners.unclaimed, providers[2])
    for (const folder of ['filesystem/', 'filesystem/etc/', 'filesystem/etc/a+b/', 'filesystem/etc/(g)/', 'system/', 'twin.json']) {
      const under = owners.unclaimedUnder(folder)
      const wrong = edges.filter((path) => under.test(path) !== (folder.startsWith('filesystem/') && path.startsWith(folder) && claims.list().every((c) => !pathPatternToRegExp(c.pattern).test(path.slice('filesystem'.length)))))
      assert.deepEqual(wrong, [], folder)
      for (const path of edges) if (under.test(path)) assert.equal(ownerOfTwinPath(path, providers, claims), providers[2], `${path} is the default owner's`)
    }
    assert.equal(owners.unclaimedUnder('filesystem/etc/').test('filesystem/etc/crontab'), false, 'a claimed file in the folder is asked')
    assert.equal(owners.unclaimedUnder('filesystem/etc/a+b/').test('filesystem/etc/aab/y'), false, 'the folder read as written')
    const none = twinPathOwners(providers, new PathClaims())
    assert.equal(none.unclaimedUnder('filesystem/').test('filesystem/etc/crontab'), true, 'no claims: every mirrored file is the default owner\'s')
    assert.equal(none.ownerOf('filesystem/etc/crontab'), providers[2])
    assert.equal(twinPathOwners([provider('os')], claims).unclaimed, undefined, 'the default owner not loaded')
  })
})

/**
 * A rig with the built-in files provider (the default owner) and a provider claiming one machine
 * file, which it mirrors while `mirroring` says so (as a plugin that stops: the machine, and so
 * the files provider's token, stay as they are), with `files` written under the root's /etc.
 */
async function claimerRig(claimed: string, files: Record<string, string>): Promise<{ rig: UnitRig; stop(): void; snapshot(): ReturnType<SnapshotService['snapshot']>; mirrored(): string[]; owned(): number }> {
  let mirroring = true
  const twinPath = `filesystem${claimed}`
  const claimer: Provider = {
    ...provider('claimer', ['system/claimer/']),
    claims: [claimed],
    async collect({ ctx }) {
      const text = await ctx.host.readTextIfExists(claimed)
      return { state: {}, documents: text === undefined || !mirroring ? [] : [{ path: twinPath, content: text }], diagnostics: [] }
    },
  }
  const rig = await unitRig([claimer])
  const others = (await builtinProviders()).map((b) => b.provider.name).filter((name) => name !== 'files')
  registerValue(rig.container, Tokens.Config, { path: undefined, values: { providers: { disabled: others } } })
  for (const [path, text] of Object.entries({ ...files, [claimed]: 'claimed\n' })) {
    await mkdir(join(rig.root, dirname(path)), { recursive: true })
    await writeFile(join(rig.root, path), text)
  }
  await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
  const listed = (...folders: string[]) => rig.git('ls-tree', '-r', '--name-only', 'HEAD', ...folders).split('\n')
  return {
    rig,
    stop: () => void (mirroring = false),
    snapshot: () => rig.container.resolve(SnapshotService).snapshot(),
    mirrored: () => listed('filesystem/'),
    /** The files provider's documents in HEAD. */
    owned: () => listed('filesystem/', 'system/files/').filter((p) => p !== twinPath).length,
  }
}

/**
 * The removals keep the default owner's mirrored files in the folder it keeps whole without
 * asking each one's owner: a file another provider claims there, which that provider no longer
 * makes, still goes, and the default owner's count of documents is what HEAD holds of its own
 * (an unchanged machine: the files provider's mirror and manifest kept whole, CollectResult.kept).
 */
describe('owner pass: the removals of a snapshot whose default owner keeps its mirror whole', function () {
  this.timeout(60_000)
  let t: Awaited<ReturnType<typeof claimerRig>>
  before(async () => {
    t = await claimerRig('/etc/claimed.conf', { '/etc/a': 'a\n', '/etc/b': 'b\n', '/etc/c': 'c\n' })
  })
  after(() => t?.rig.cleanup())

  it('a claimed file in the kept folder goes when its provider no longer makes it; the kept files are counted', async () => {
    await t.snapshot()
    assert.deepEqual(t.mirrored(), ['filesystem/etc/a', 'filesystem/etc/b', 'filesystem/etc/c', 'filesystem/etc/claimed.conf'])
    const same = await t.snapshot()
    assert.equal(same.skipped, 'unchanged')
    assert.equal(same.providers.find((p) => p.name === 'files')?.documents, t.owned(), 'its mirrored files and manifest, kept')
    t.stop()
    const gone = await t.snapshot()
    assert.notEqual(gone.commit, undefined)
    assert.deepEqual(t.mirrored(), ['filesystem/etc/a', 'filesystem/etc/b', 'filesystem/etc/c'], 'the claimed file went, the kept ones stayed')
    assert.equal(gone.providers.find((p) => p.name === 'files')?.documents, t.owned())
    assert.equal(gone.providers.find((p) => p.name === 'claimer')?.documents, 0)
    assert.equal((await t.snapshot()).skipped, 'unchanged')
  })
})

/**
 * The same with the default owner's manifest split and kept by part (a file changed): its files
 * in a part it keeps are kept without asking, one in a part it does not keep goes when the
 * machine no longer has it, and another provider's file in a kept part goes when it is no longer made.
 */
describe('owner pass: the removals of a snapshot whose default owner keeps its mirror by part', function () {
  this.timeout(60_000)
  let t: Awaited<ReturnType<typeof claimerRig>>
  /** The files provider's own module, as builtin-providers.ts loads it. */
  const filesPlugin = () => import('@twinsync/plugin-files')
  before(async () => {
    ;(await filesPlugin()).setSplitFromForTests(8)
    const files: Record<string, string> = {}
    for (let d = 0; d < 8; d++) for (const f of ['x', 'y']) files[`/etc/p${d}/${f}`] = `${d}${f}\n`
    t = await claimerRig('/etc/p0/claimed.conf', files)
  })
  after(async () => {
    ;(await filesPlugin()).setSplitFromForTests(undefined)
    await t?.rig.cleanup()
  })

  it('a file of a part not kept goes, the kept parts\' files stay and are counted, a claimed file no longer made goes', async () => {
    await t.snapshot()
    assert.ok(t.rig.git('ls-tree', '--name-only', 'HEAD', 'system/files/manifest/') !== '', 'the manifest is split')
    const all = t.mirrored()
    assert.equal(all.length, 17)
    assert.equal((await t.snapshot()).skipped, 'unchanged')
    t.stop()
    await rm(join(t.rig.root, 'etc/p3/y'))
    const result = await t.snapshot()
    assert.notEqual(result.commit, undefined)
    assert.deepEqual(t.mirrored(), all.filter((p) => p !== 'filesystem/etc/p3/y' && p !== 'filesystem/etc/p0/claimed.conf'))
    assert.equal(result.providers.find((p) => p.name === 'files')?.documents, t.owned())
    assert.equal((await t.snapshot()).skipped, 'unchanged')
  })
})
