// The files manifest split into parts above SPLIT_FROM entries (plugins/files/src/manifest.ts),
// through the services the CLI calls, with the real files provider and a real git twin. First on
// a synthetic root just above the real threshold (about 4,150 entries, made in a temp folder in
// well under a second): split, one part written for a changed file, and the threshold crossed
// down and up. Then, under a threshold of the test's own (setSplitFromForTests) on a root of
// about 860 entries, built the same way (folders of 20 files instead of 100; its whole manifest
// still above NARROW_FROM, so compared narrowed as a machine of 4,150 entries is): the layout,
// plan and status the same in either form, an edit in a part applied, the threshold crossed both
// ways with an edit pending, `revert` to a snapshot of the other form, a pulled twin of either
// form, and a hostile twin's parts refused with nothing changed. The steps build on each other,
// in order. Session 37: every step on the large root was 233 s of CPU in CI, most of it the
// product's work on 4,150 entries (each snapshot, plan, status and apply walks, hashes and reads
// them all); the code under test is the same at either threshold.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger, stableStringify } from '@twinsync/sdk'
import { createContainer } from '../../core/src/container.js'
import type { DependencyContainer } from '../../core/src/di.js'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { HistoryService } from '../../core/src/history/history-service.js'
import { RemoteService } from '../../core/src/remote/remote-service.js'
import { StatusWorkflow } from '../../core/src/services/drift-status.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { partOf, partPath, SPLIT_FROM } from '../../plugins/files/src/manifest.js'
import { NARROW_FROM } from '../../plugins/files/src/narrow.js'
import type { Manifest, ManifestEntry } from '../../plugins/files/src/state.js'
import { checksum, FILES_ONLY, git, noPlugins } from '../support/in-process-twin.js'

const MANIFEST = 'system/files/manifest.json'
const PARTS_DIR = 'system/files/manifest'
/** Folders of files under /etc/many (100 each: with the last of them the root is above SPLIT_FROM, without it below). */
const FOLDERS = Math.floor(SPLIT_FROM / 100) + 1
const LAST = `/etc/many/d${FOLDERS - 1}`
/** The files of a folder on the smaller root: `/etc/many/dD/f{D*100+I}.conf`, I below PER. */
const PER = 20
/**
 * The smaller root's threshold: above it with the last folder (FOLDERS folders of PER files, the
 * folders, /etc/many and /etc's five entries), below it without (about 860 and 840 entries).
 */
const SMALL_SPLIT = (FOLDERS - 1) * (PER + 1) + 6 + Math.ceil((PER + 1) / 2)

/** A root of FOLDERS folders of `per` files under /etc/many, and a small /etc. */
async function fillRoot(root: string, per: number): Promise<void> {
  await mkdir(join(root, 'etc'), { recursive: true })
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
  await writeFile(join(root, 'etc/hostname'), 'target\n')
  await writeFile(join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="13"\nPRETTY_NAME="Debian GNU/Linux 13"\n')
  for (let d = 0; d < FOLDERS - 1; d++) {
    await mkdir(join(root, `etc/many/d${d}`), { recursive: true })
    await Promise.all(Array.from({ length: per }, (_, i) => writeFile(join(root, `etc/many/d${d}/f${d * 100 + i}.conf`), `value = ${d * 100 + i}\n`)))
  }
  await makeLastOf(root, per)
}

/** The last folder, with its `per` files. */
async function makeLastOf(root: string, per: number): Promise<void> {
  await mkdir(join(root, LAST), { recursive: true })
  for (let i = 0; i < per; i++) await writeFile(join(root, `${LAST}/f${i}.conf`), `last ${i}\n`)
}

const formOf = (twin: string, rev: string) => ({
  version: (JSON.parse(git(twin, ['show', `${rev}:${MANIFEST}`])) as Manifest).version,
  parts: git(twin, ['ls-tree', '--name-only', `${rev}:system/files`]).includes('manifest\n') ? git(twin, ['ls-tree', '--name-only', `${rev}:${PARTS_DIR}`]).split('\n').filter(Boolean).length : 0,
})

describe('files manifest at the real threshold (SPLIT_FROM): a root of about 4,150 entries, split, and crossing both ways', function () {
  this.timeout(300_000)
  let dir: string
  let root: string
  let twin: string
  let container: () => Promise<DependencyContainer>
  const snapshot = async () => (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-split-'))
    root = join(dir, 'root')
    twin = join(dir, 'twin')
    await fillRoot(root, 100)
    const configPath = join(dir, 'config.yaml')
    await writeFile(configPath, FILES_ONLY)
    container = () => createContainer({ root, repo: twin, configPath, oclif: noPlugins, logger: silentLogger })
    await (await container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
  })
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('snapshots the root above SPLIT_FROM as manifest.json of version 2 and parts; a changed file writes its part; below SPLIT_FROM one document, and parts again above', async () => {
    assert.deepEqual(formOf(twin, 'HEAD').version, 2)
    assert.ok(formOf(twin, 'HEAD').parts > 16)
    assert.deepEqual((await (await container()).resolve(PlanWorkflow).plan({})).changes, [])
    await writeFile(join(root, 'etc/many/d7/f707.conf'), 'value = changed\n')
    assert.ok((await snapshot()).commit)
    assert.deepEqual(git(twin, ['diff', '--name-only', 'HEAD~1', 'HEAD']).split('\n').filter(Boolean), ['filesystem/etc/many/d7/f707.conf', partPath(partOf('/etc/many/d7/f707.conf'))].sort())
    await rm(join(root, LAST), { recursive: true })
    await snapshot()
    assert.deepEqual(formOf(twin, 'HEAD'), { version: 1, parts: 0 }, 'below SPLIT_FROM: one document')
    await makeLastOf(root, 100)
    await snapshot()
    assert.match(git(twin, ['log', '-1', '--format=%B']), new RegExp(`^files: d${FOLDERS - 1} added \\(a directory\\), [^]*TwinSync-Counts: [0-9a-f]+ files=101 `))
    assert.equal(formOf(twin, 'HEAD').version, 2)
    assert.ok(formOf(twin, 'HEAD').parts > 16)
    assert.equal(git(twin, ['status', '--porcelain', '--untracked-files=all']), '')
  })
})

describe('files manifest in parts above the threshold: a real twin, crossing both ways (a root of about 860 entries, under a threshold of its own)', function () {
  this.timeout(300_000)
  let dir: string
  let root: string
  let twin: string
  let mirror: string
  let container: () => Promise<DependencyContainer>
  const snapshot = async () => (await container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
  const plan = async () => (await container()).resolve(PlanWorkflow).plan({})
  const planIds = async () => {
    const p = await plan()
    assert.deepEqual(p.diagnostics.filter((d) => d.severity === 'error'), [])
    return p.changes.map((c) => c.id).sort()
  }
  const form = (rev: string) => formOf(twin, rev)
  /** The twin file that holds a path's entry in the working twin's form. */
  const homeOf = async (path: string) => ((JSON.parse(await readFile(join(twin, MANIFEST), 'utf8')) as Manifest).version === 1 ? MANIFEST : partPath(partOf(path)))
  /** Edit a path's entry where it is, as a person would. */
  const editEntry = async (doc: string, path: string, change: Partial<ManifestEntry>) => {
    const data = JSON.parse(await readFile(join(twin, doc), 'utf8')) as { entries: ManifestEntry[] }
    const entry = data.entries.find((e) => e.path === path)
    assert.ok(entry, `${doc} lists ${path}`)
    Object.assign(entry, change)
    await writeFile(join(twin, doc), `${JSON.stringify(data, null, 2)}\n`)
  }
  const modeOf = async (path: string) => ((await stat(join(root, path))).mode & 0o7777).toString(8)
  const makeLast = () => makeLastOf(root, PER)
  const applyPlan = async (p: Awaited<ReturnType<typeof plan>>, revertTo?: string) => {
    const report = await (await container()).resolve(ApplyService).apply({ plan: p, fromFile: false, signal: new AbortController().signal, ...(revertTo === undefined ? {} : { revertTo }) })
    assert.equal(report.exitCode, 0, JSON.stringify(report).slice(0, 2000))
  }
  /** An entry whose part holds none of the last folder's entries nor its own entry's. */
  const aside = (n: number) => {
    const busy = new Set([partOf(`${LAST}/f0.conf`), partOf(LAST)])
    for (let d = 0; ; d++) {
      const path = `/etc/many/d${d}/f${d * 100 + n}.conf`
      if (!busy.has(partOf(path))) return path
    }
  }

  /** The files provider's own module: loaded by import(), as builtin-providers.ts loads it (tsx gives a static import here a copy of its own). */
  const filesPlugin = () => import('@twinsync/plugin-files')

  before(async () => {
    ;(await filesPlugin()).setSplitFromForTests(SMALL_SPLIT)
    dir = await mkdtemp(join(tmpdir(), 'twinsync-split-'))
    root = join(dir, 'root')
    twin = join(dir, 'twin')
    mirror = join(dir, 'mirror.git')
    await fillRoot(root, PER)
    const configPath = join(dir, 'config.yaml')
    await writeFile(configPath, FILES_ONLY)
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    container = () => createContainer({ root, repo: twin, configPath, oclif: noPlugins, logger: silentLogger })
    await (await container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
  })
  after(async () => {
    ;(await filesPlugin()).setSplitFromForTests(undefined)
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('snapshots a root above the threshold as manifest.json of version 2 and parts; unchanged, nothing planned', async () => {
    assert.deepEqual(form('HEAD').version, 2)
    assert.ok(form('HEAD').parts > 16)
    assert.deepEqual(await planIds(), [])
    // A one-file change: one part and the file's document change, and the diary line says it.
    await writeFile(join(root, 'etc/many/d7/f707.conf'), 'value = changed\n')
    const taken = await snapshot()
    assert.ok(taken.commit)
    assert.deepEqual(git(twin, ['diff', '--name-only', 'HEAD~1', 'HEAD']).split('\n').filter(Boolean), ['filesystem/etc/many/d7/f707.conf', partPath(partOf('/etc/many/d7/f707.conf'))].sort())
    assert.match(git(twin, ['log', '-1', '--format=%B']), /f707\.conf/)
  })

  it('plans and reports status the same for the same edit in either form', async () => {
    const path = '/etc/many/d3/f305.conf'
    await editEntry(partPath(partOf(path)), path, { mode: '0600' })
    const split = { plan: await plan(), status: await (await container()).resolve(StatusWorkflow).status(undefined) }
    assert.deepEqual(split.plan.changes.map((c) => c.id), [`files:chmod:${path}`])
    // The same twin as one document of version 1, every entry in it.
    const entries: ManifestEntry[] = []
    for (const name of await readdir(join(twin, PARTS_DIR))) entries.push(...(JSON.parse(await readFile(join(twin, PARTS_DIR, name), 'utf8')) as { entries: ManifestEntry[] }).entries)
    const main = JSON.parse(await readFile(join(twin, MANIFEST), 'utf8')) as Manifest
    await rm(join(twin, PARTS_DIR), { recursive: true })
    await writeFile(join(twin, MANIFEST), stableStringify({ ...main, version: 1, entries: entries.sort((a, b) => (a.path < b.path ? -1 : 1)) }))
    const whole = { plan: await plan(), status: await (await container()).resolve(StatusWorkflow).status(undefined) }
    const strip = (p: typeof split.plan) => ({ changes: p.changes, diagnostics: p.diagnostics })
    assert.deepEqual(strip(whole.plan), strip(split.plan))
    assert.deepEqual({ ...whole.status.pending, intended: null }, { ...split.status.pending, intended: null })
    assert.deepEqual(whole.status.changes, split.status.changes)
    // Back to the snapshot: only system/files/ was written (a checkout of the whole twin looked at its 860 documents too).
    git(twin, ['checkout', '--quiet', '--', 'system/files'])
    git(twin, ['clean', '--quiet', '-fd', '--', 'system/files'])
    assert.equal(git(twin, ['status', '--porcelain', '--untracked-files=all']), '')
  })

  it('applies an entry edited in its part, and the next snapshot settles it', async () => {
    const path = '/etc/many/d4/f410.conf'
    await editEntry(partPath(partOf(path)), path, { mode: '0640' })
    const p = await plan()
    assert.deepEqual(p.changes.map((c) => c.id), [`files:chmod:${path}`])
    await applyPlan(p)
    assert.equal(await modeOf(path), '640')
    await snapshot()
    assert.equal(git(twin, ['status', '--porcelain']), '')
    assert.deepEqual(await planIds(), [])
  })

  it('crossing down with edits pending in a part and in manifest.json: both survive and are planned, alone', async () => {
    const path = aside(12)
    await editEntry(partPath(partOf(path)), path, { mode: '0600' })
    // An entry a person puts in manifest.json of version 2 (it wins over its part's copy).
    const added = aside(15)
    const copy = (JSON.parse(await readFile(join(twin, partPath(partOf(added))), 'utf8')) as { entries: ManifestEntry[] }).entries.find((e) => e.path === added)
    const main = JSON.parse(await readFile(join(twin, MANIFEST), 'utf8')) as Manifest
    await writeFile(join(twin, MANIFEST), `${JSON.stringify({ ...main, entries: [{ ...copy, mode: '0640' }] }, null, 2)}\n`)
    assert.deepEqual((await plan()).changes.map((c) => c.id).sort(), [`files:chmod:${path}`, `files:chmod:${added}`].sort())
    await rm(join(root, LAST), { recursive: true })
    await snapshot()
    assert.deepEqual(form('HEAD'), { version: 1, parts: 0 }, 'below the threshold: one document')
    // As large as a machine's whole manifest near SPLIT_FROM is for narrowing (narrow.ts): compared narrowed, not whole.
    assert.ok(Buffer.byteLength(git(twin, ['show', `HEAD:${MANIFEST}`])) >= NARROW_FROM, 'the whole manifest is above NARROW_FROM')
    // The diary line across the change of form: what the machine did, not the documents that moved.
    assert.equal(git(twin, ['log', '-1', '--format=%s']).trim(), `files: d${FOLDERS - 1} removed`)
    assert.ok((await readFile(join(twin, partPath(partOf(path))), 'utf8')).includes('"0600"'), 'the edited part is kept')
    const p = await plan()
    assert.deepEqual(p.changes.map((c) => c.id).sort(), [`files:chmod:${path}`, `files:chmod:${added}`].sort())
    await applyPlan(p)
    assert.equal(await modeOf(path), '600')
    assert.equal(await modeOf(added), '640')
    await snapshot()
    assert.equal(git(twin, ['status', '--porcelain', '--untracked-files=all']), '', 'settled: the part is gone')
  })

  it('crossing up with an edit pending in manifest.json: the edit survives and is planned, alone', async () => {
    const path = aside(17)
    assert.equal(await homeOf(path), MANIFEST)
    await editEntry(MANIFEST, path, { mode: '0640' })
    await makeLast()
    await snapshot()
    assert.match(git(twin, ['log', '-1', '--format=%B']), new RegExp(`^files: d${FOLDERS - 1} added \\(a directory\\), [^]*TwinSync-Counts: [0-9a-f]+ files=${PER + 1} `))
    assert.equal(form('HEAD').version, 2)
    assert.ok(form('HEAD').parts > 16)
    const p = await plan()
    assert.deepEqual(p.changes.map((c) => c.id), [`files:chmod:${path}`])
    await applyPlan(p)
    assert.equal(await modeOf(path), '640')
    await snapshot()
    assert.equal(git(twin, ['status', '--porcelain', '--untracked-files=all']), '', 'settled')
    assert.deepEqual(await planIds(), [])
  })

  it('reverts to a snapshot of the other form, both ways', async () => {
    const log = git(twin, ['log', '--format=%H']).split('\n').filter(Boolean)
    const whole = log.find((c) => form(c).version === 1) as string
    const split = git(twin, ['rev-parse', 'HEAD']).trim()
    const history = (await container()).resolve(HistoryService)
    // To the whole form: the last folder (absent then) goes.
    const back = await (await container()).resolve(PlanWorkflow).toApply({ revert: await history.resolve(whole) })
    assert.ok(back.changes.some((c) => c.id === `files:delete:${LAST}`), JSON.stringify(back.changes.map((c) => c.id)))
    await applyPlan(back, whole)
    await assert.rejects(stat(join(root, LAST)))
    await snapshot()
    assert.equal(form('HEAD').version, 1)
    // And to the split form again: it comes back.
    const forth = await (await container()).resolve(PlanWorkflow).toApply({ revert: await history.resolve(split) })
    assert.ok(forth.changes.some((c) => c.id.startsWith(`files:create:${LAST}`)), JSON.stringify(forth.changes.map((c) => c.id)))
    await applyPlan(forth, split)
    assert.equal(await readFile(join(root, `${LAST}/f0.conf`), 'utf8'), 'last 0\n')
    await snapshot()
    assert.equal(form('HEAD').version, 2)
    assert.deepEqual(await planIds(), [])
  })

  /** Serve a commit made from a clone of what the twin pushed: `edit` changes the clone's files. */
  const serve = async (edit: (clone: string) => Promise<void>) => {
    git(twin, ['push', '--quiet', '--force', mirror, 'HEAD:refs/heads/main'])
    const clone = join(dir, `clone-${Date.now()}`)
    // Only system/files/ checked out (the edits are the manifest's): the commit keeps every other file as the mirror has it.
    execFileSync('git', ['clone', '--quiet', '--no-checkout', mirror, clone])
    git(clone, ['sparse-checkout', 'set', 'system/files'])
    git(clone, ['checkout', '--quiet', 'main'])
    await edit(clone)
    git(clone, ['add', '-A'])
    git(clone, ['commit', '--quiet', '-m', 'edited elsewhere'])
    git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
    await rm(clone, { recursive: true, force: true })
  }
  /** A clone's manifest rewritten in the other form, with one entry's mode changed. */
  const otherForm = (path: string, mode: string) => async (clone: string) => {
    const main = JSON.parse(await readFile(join(clone, MANIFEST), 'utf8')) as Manifest
    const entries: ManifestEntry[] = [...main.entries]
    const partsDir = join(clone, PARTS_DIR)
    for (const name of await readdir(partsDir).catch(() => [] as string[])) entries.push(...(JSON.parse(await readFile(join(partsDir, name), 'utf8')) as { entries: ManifestEntry[] }).entries)
    for (const e of entries) if (e.path === path) e.mode = mode
    entries.sort((a, b) => (a.path < b.path ? -1 : 1))
    await rm(partsDir, { recursive: true, force: true })
    if (main.version === 2) {
      await writeFile(join(clone, MANIFEST), stableStringify({ ...main, version: 1, entries }))
      return
    }
    await writeFile(join(clone, MANIFEST), stableStringify({ ...main, version: 2, entries: [] }))
    await mkdir(partsDir)
    const parts = new Map<string, ManifestEntry[]>()
    for (const e of entries) parts.set(partPath(partOf(e.path)), [...(parts.get(partPath(partOf(e.path))) ?? []), e])
    for (const [part, list] of parts) await writeFile(join(clone, part), stableStringify({ entries: list }))
  }

  it('plans from a pulled twin of the other form, both ways', async () => {
    // The mirror only for the pull: an apply pushes to a mirror it has, which this test does not need.
    const pull = async () => {
      const remote = (await container()).resolve(RemoteService)
      await remote.setGitRemote(mirror, undefined)
      const pulled = await remote.pull()
      await remote.unlink({ forgetToken: false })
      return pulled
    }
    // The twin is split; the mirror serves it as one document with an edit.
    const first = '/etc/many/d5/f505.conf'
    await serve(otherForm(first, '0600'))
    assert.equal((await pull()).status, 'fast-forwarded')
    assert.equal(form('HEAD').version, 1)
    assert.deepEqual(await planIds(), [`files:chmod:${first}`])
    await applyPlan(await plan())
    assert.equal(await modeOf(first), '600')
    // Below the threshold the mirror serves a split twin with an edit.
    await rm(join(root, LAST), { recursive: true })
    await snapshot()
    assert.equal(form('HEAD').version, 1)
    const second = '/etc/many/d6/f606.conf'
    await serve(otherForm(second, '0640'))
    assert.equal((await pull()).status, 'fast-forwarded')
    assert.equal(form('HEAD').version, 2)
    assert.deepEqual(await planIds(), [`files:chmod:${second}`])
    await applyPlan(await plan())
    assert.equal(await modeOf(second), '640')
    await makeLast()
    await snapshot()
    assert.equal(form('HEAD').version, 2)
    assert.deepEqual(await planIds(), [])
  })

  /** chattr: an immutable path's write, chmod or create inside fails (EPERM), as a step that fails on a real machine. */
  const immutable = (path: string, on: boolean) => execFileSync('chattr', [on ? '+i' : '-i', join(root, path)])
  const pendingItems = async () => (await (await container()).resolve(StatusWorkflow).status(undefined)).pending.items.map((i) => ({ id: i.id, reason: i.reason }))
  const applyFailing = async (p: Awaited<ReturnType<typeof plan>>) => {
    const report = await (await container()).resolve(ApplyService).apply({ plan: p, fromFile: false, signal: new AbortController().signal })
    assert.equal(report.exitCode, 1, JSON.stringify(report).slice(0, 2000))
    return report
  }

  it('a failed step of an apply across the threshold stays pending with its reason, alone; the applied ones settle', async () => {
    assert.equal(form('HEAD').version, 2)
    const [one, two] = [aside(1), aside(2)]
    // Drift: the last folder gone (the machine below the threshold: the checkpoint is one document, the plan's twin in parts), two modes changed.
    await rm(join(root, LAST), { recursive: true })
    await chmod(join(root, one), 0o600)
    await chmod(join(root, two), 0o600)
    immutable(two, true)
    try {
      const p = await plan()
      assert.ok(p.changes.some((c) => c.id === `files:chmod:${two}`) && p.changes.some((c) => c.id === `files:chmod:${one}`), JSON.stringify(p.changes.map((c) => c.id)))
      await applyFailing(p)
      assert.equal(await modeOf(one), '644')
      assert.equal(await readFile(join(root, `${LAST}/f0.conf`), 'utf8'), 'last 0\n')
      // Before, the files domain was not promoted across the layouts: the failed chmod was lost ("nothing pending").
      const items = await pendingItems()
      assert.deepEqual(items.map((i) => i.id), [`files:chmod:${two}`])
      assert.match(items[0]?.reason ?? '', /^failed in the apply of /)
      assert.deepEqual(await planIds(), [`files:chmod:${two}`])
    } finally {
      immutable(two, false)
    }
    await applyPlan(await plan())
    assert.equal(await modeOf(two), '644')
    assert.deepEqual(await pendingItems(), [])
    assert.deepEqual(await planIds(), [])
    assert.equal(form('HEAD').version, 2)
  })

  it('a failed create in an apply whose plan has a manifest part the checkpoint lacks (a new folder) stays pending, alone', async () => {
    const used = new Set(git(twin, ['ls-tree', '--name-only', `HEAD:${PARTS_DIR}`]).split('\n').filter(Boolean))
    // Two new folders whose files go into parts the twin does not have yet.
    const fresh: string[] = []
    for (let n = 0; fresh.length < 2; n++) {
      const part = partPath(partOf(`/etc/new${n}/x.conf`))
      if (!used.has(part.slice(PARTS_DIR.length + 1))) {
        used.add(part.slice(PARTS_DIR.length + 1))
        fresh.push(`/etc/new${n}`)
      }
    }
    const [a, b] = fresh as [string, string]
    for (const folder of fresh) {
      await mkdir(join(root, folder))
      await writeFile(join(root, `${folder}/x.conf`), `${folder}\n`)
    }
    await snapshot()
    assert.deepEqual(await planIds(), [])
    // Drift: both files gone; the second folder refuses a new file.
    for (const folder of fresh) await rm(join(root, `${folder}/x.conf`))
    immutable(b, true)
    try {
      await applyFailing(await plan())
      assert.equal(await readFile(join(root, `${a}/x.conf`), 'utf8'), `${a}\n`)
      const items = await pendingItems()
      assert.deepEqual(items.map((i) => i.id), [`files:create:${b}/x.conf`])
      assert.match(items[0]?.reason ?? '', /^failed in the apply of /)
      assert.deepEqual(await planIds(), [`files:create:${b}/x.conf`])
    } finally {
      immutable(b, false)
    }
    await applyPlan(await plan())
    assert.equal(await readFile(join(root, `${b}/x.conf`), 'utf8'), `${b}\n`)
    assert.deepEqual(await planIds(), [])
    for (const folder of fresh) await rm(join(root, folder), { recursive: true })
    await snapshot()
    assert.deepEqual(await planIds(), [])
  })

  describe('a hostile twin: refused with a stable code, nothing changed on the machine', () => {
    let rootSum: string
    before(async () => {
      assert.equal(form('HEAD').version, 2)
      rootSum = await checksum(root)
    })
    afterEach(async () => {
      git(twin, ['reset', '--quiet', '--hard', 'HEAD'])
      git(twin, ['clean', '--quiet', '-fdx'])
      assert.equal(await checksum(root), rootSum, 'the target changed')
    })
    const partText = (n: number) => readFile(join(twin, partPath(n)), 'utf8')
    /** The parts the twin has (a part with no entries is not written), the first one after `n`'s. */
    const parts = () => readdir(join(twin, PARTS_DIR)).then((names) => names.sort().map((n) => Number(n.slice(0, 2))))
    const another = async (n: number) => (await parts()).find((p) => p !== n) as number
    const cases: Array<[string, string, () => Promise<void>]> = [
      [
        'a path in the wrong part',
        'FILES_MANIFEST_PART_MISPLACED',
        async () => {
          const entries = (JSON.parse(await partText(partOf('/etc/many/d1/f100.conf'))) as { entries: ManifestEntry[] }).entries
          const moved = entries.find((e) => e.path === '/etc/many/d1/f100.conf') as ManifestEntry
          await writeFile(join(twin, partPath(partOf('/etc/many/d1/f100.conf'))), stableStringify({ entries: entries.filter((e) => e !== moved) }))
          const other = await another(partOf(moved.path))
          const there = (JSON.parse(await partText(other)) as { entries: ManifestEntry[] }).entries
          await writeFile(join(twin, partPath(other)), stableStringify({ entries: [...there, { ...moved, mode: '0777' }] }))
        },
      ],
      [
        'a path in two parts',
        'FILES_MANIFEST_PART_MISPLACED',
        async () => {
          const entry = (JSON.parse(await partText(partOf('/etc/many/d1/f100.conf'))) as { entries: ManifestEntry[] }).entries.find((e) => e.path === '/etc/many/d1/f100.conf') as ManifestEntry
          const other = await another(partOf(entry.path))
          const there = (JSON.parse(await partText(other)) as { entries: ManifestEntry[] }).entries
          await writeFile(join(twin, partPath(other)), stableStringify({ entries: [{ ...entry, mode: '0777' }, ...there] }))
        },
      ],
      ['a part named like ../x', 'FILES_MANIFEST_PART_UNKNOWN', () => writeFile(join(twin, PARTS_DIR, '..00.json'), '{"entries": []}\n')],
      [
        'a part that is a symlink',
        'FILES_MANIFEST_PART_UNKNOWN',
        async () => {
          const first = ((await parts())[0]) as number
          await rm(join(twin, partPath(first)))
          await symlink(join(root, 'etc/passwd'), join(twin, partPath(first)))
        },
      ],
      [
        'a part that fails the schema',
        'FILES_MANIFEST_INVALID',
        async () => {
          const first = ((await parts())[0]) as number
          const entries = (JSON.parse(await partText(first)) as { entries: ManifestEntry[] }).entries
          await writeFile(join(twin, partPath(first)), stableStringify({ entries: [{ ...entries[0], uid: -1, mode: '0777' }, ...entries.slice(1)] }))
        },
      ],
      ['an unknown file under the parts', 'FILES_MANIFEST_PART_UNKNOWN', () => writeFile(join(twin, PARTS_DIR, 'notes.txt'), 'mine\n')],
    ]
    for (const [name, code, plant] of cases) {
      it(`${name}: ${code}, no file change planned, apply refuses`, async () => {
        await plant()
        const p = await plan()
        assert.deepEqual(
          p.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
          [code],
        )
        assert.deepEqual(p.changes.filter((c) => c.category === 'files'), [])
        await assert.rejects((await container()).resolve(ApplyService).apply({ plan: p, fromFile: false, signal: new AbortController().signal }))
        // A snapshot keeps the machine's state and the hostile edit pending, never applying it.
        await snapshot()
        assert.equal(form('HEAD').version, 2)
      })
    }
  })

  it('crossing both ways with a removal pending: the entry the person took out is still deleted, not brought back by its new document', async () => {
    await snapshot()
    assert.deepEqual(await planIds(), [])
    assert.equal(form('HEAD').version, 2)
    const removeEntry = async (doc: string, path: string) => {
      const data = JSON.parse(await readFile(join(twin, doc), 'utf8')) as { entries: ManifestEntry[] }
      assert.ok(data.entries.some((e) => e.path === path), `${doc} lists ${path}`)
      await writeFile(join(twin, doc), `${JSON.stringify({ ...data, entries: data.entries.filter((e) => e.path !== path) }, null, 2)}\n`)
    }
    // Symlinks: entries only (no document under filesystem/), so the manifest is where a person removes them.
    const down = '/etc/many/d2/link-down'
    const up = '/etc/many/d3/link-up'
    await symlink('f200.conf', join(root, down))
    await symlink('f300.conf', join(root, up))
    await snapshot()
    await removeEntry(await homeOf(down), down)
    assert.deepEqual(await planIds(), [`files:delete:${down}`])
    await rm(join(root, LAST), { recursive: true })
    await snapshot()
    assert.equal(form('HEAD').version, 1)
    // Before, the whole manifest listed it again and the removal was dropped without a word.
    assert.deepEqual(await planIds(), [`files:delete:${down}`])
    await applyPlan(await plan())
    await assert.rejects(lstat(join(root, down)))
    await snapshot()
    assert.equal(git(twin, ['status', '--porcelain', '--untracked-files=all']), '', 'settled')

    await removeEntry(MANIFEST, up)
    assert.deepEqual(await planIds(), [`files:delete:${up}`])
    await makeLast()
    await snapshot()
    assert.equal(form('HEAD').version, 2)
    assert.deepEqual(await planIds(), [`files:delete:${up}`], 'its part lists it no more')
    await applyPlan(await plan())
    await assert.rejects(lstat(join(root, up)))
    await snapshot()
    assert.equal(git(twin, ['status', '--porcelain', '--untracked-files=all']), '', 'settled')
    assert.deepEqual(await planIds(), [])
  })

  it('crossing down and up again with an edit pending in a part: the edit alone is planned, not the rest of its part deleted', async () => {
    await snapshot()
    assert.deepEqual(await planIds(), [])
    assert.equal(form('HEAD').version, 2)
    const path = aside(18)
    // Beside it in its folder (so in its part): a symlink and a file of another mode, which no document under filesystem/ describes alone.
    const folder = path.slice(0, path.lastIndexOf('/'))
    const sibling = `${folder}/f${Number(/f(\d+)\.conf$/.exec(path)?.[1]) + 1}.conf`
    await symlink('f0.conf', join(root, `${folder}/zz-link`))
    await chmod(join(root, sibling), 0o640)
    await snapshot()
    assert.deepEqual(await planIds(), [])
    await editEntry(partPath(partOf(path)), path, { mode: '0600' })
    await rm(join(root, LAST), { recursive: true })
    await snapshot()
    assert.equal(form('HEAD').version, 1)
    assert.deepEqual(await planIds(), [`files:chmod:${path}`])
    await makeLast()
    await snapshot()
    assert.equal(form('HEAD').version, 2)
    // Before, the part the first crossing kept (the edited entry alone) replaced the machine's whole part: every other entry of it planned for deletion.
    assert.deepEqual(await planIds(), [`files:chmod:${path}`])
    await applyPlan(await plan())
    assert.equal(await modeOf(path), '600')
    assert.equal(await modeOf(sibling), '640')
    await snapshot()
    assert.equal(git(twin, ['status', '--porcelain', '--untracked-files=all']), '', 'settled')
    assert.deepEqual(await planIds(), [])
  })

  it('keeps every part under git as a regular file (no mode change, nothing else under the folder)', async () => {
    for (const line of git(twin, ['ls-tree', 'HEAD', `${PARTS_DIR}/`]).split('\n').filter(Boolean)) assert.match(line, /^100644 blob [0-9a-f]+\tsystem\/files\/manifest\/\d{2}\.json$/)
    void chmod
  })
})
