// Speed (issue 22, session 41; core/src/plan/kept-compare.ts): `plan` and `status` of an unchanged
// machine do not compare a provider again whose comparison with the very commit they read found
// nothing under the token its collect gives now. Traced through the built CLI: which of the
// twin's files the run opens (the files provider's load reads its manifest and mirrored files).
// And what must never be lost: an edited working twin, a changed machine and a commit made by
// hand plan and show exactly what they did before.
import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, run } from '../bed/index.js'
import { commitTwin, TWINSYNC_BIN, useCliRoot } from '../support/cli.js'

interface Traced {
  code: number | null
  stdout: string
  stderr: string
  /** The twin's files the run opened, relative to the twin. */
  opened: string[]
}

interface PlanJson {
  createdAt: string
  changes: Array<{ id: string }>
  diagnostics: Array<{ code: string; path?: string }>
}

interface StatusJson {
  drift: boolean
  changes: Array<{ id: string }>
  pending: { count: number; items: Array<{ resource: string }> }
}

describe('plan and status of an unchanged machine compare nothing again (issue 22)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  let runs = 0

  async function traced(...args: string[]): Promise<Traced> {
    const dir = root().cli.dir
    const out = join(dir, `opened-${runs++}.json`)
    const trace = join(dir, 'trace-open.cjs')
    await writeFile(
      trace,
      [
        "const fs = require('node:fs'), open = fs.openSync, twin = process.env.TRACE_TWIN + '/', opened = []",
        'fs.openSync = function (path) { if (typeof path === "string" && path.startsWith(twin)) opened.push(path.slice(twin.length)); return open.apply(this, arguments) }',
        "process.on('exit', () => fs.writeFileSync(process.env.TRACE_OUT, JSON.stringify(opened)))",
      ].join('\n') + '\n',
    )
    const r = await run(['node', '-r', trace, TWINSYNC_BIN, ...args, '--root', root().rootfs.dir, '--repo', root().twinDir], {
      env: root().cli.env({ TRACE_OUT: out, TRACE_TWIN: root().twinDir }),
      timeoutMs: 120_000,
    })
    return { ...r, opened: JSON.parse(await readFile(out, 'utf8')) as string[] }
  }

  // The files provider's manifest (its mirrored files are known by blob id on an unchanged machine, unread; cron reads some of them too).
  const filesDocuments = (opened: readonly string[]) => opened.filter((p) => p.startsWith('system/files/'))
  const plan = (r: Traced): PlanJson => JSON.parse(r.stdout) as PlanJson
  const sameBut = (a: string, b: string, field: RegExp) => assert.equal(a.replace(field, ''), b.replace(field, ''))

  it("plans an unchanged machine a second time without reading the files provider's twin documents, the same plan", async () => {
    const snap = await traced('snapshot', '--json')
    assert.equal(snap.code, 0, snap.stderr)
    const first = await traced('plan', '--json')
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual(plan(first).changes, [], first.stdout)
    assert.ok(filesDocuments(first.opened).includes('system/files/manifest.json'), `the first plan compares the files (the trace sees its reads): ${first.opened.join(', ')}`)
    const second = await traced('plan', '--json')
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(filesDocuments(second.opened), [], 'the second plan read the files provider\'s documents: its comparison was made again')
    sameBut(second.stdout, first.stdout, /"createdAt": "[^"]*"/)
  })

  it('gives the same status a second time without reading them either', async () => {
    const first = await traced('status', '--json')
    assert.equal(first.code, 0, first.stderr)
    const second = await traced('status', '--json')
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(filesDocuments(second.opened), [], 'status read the files provider\'s documents again')
    assert.equal(second.stdout, first.stdout)
    const s = JSON.parse(second.stdout) as StatusJson
    assert.equal(s.drift, false, second.stdout)
    assert.equal(s.pending.count, 0, second.stdout)
  })

  it('plans an edit of the working twin, and shows it pending, after such a plan', async () => {
    const twinMotd = join(root().twinDir, 'filesystem/etc/motd')
    const was = await readFile(twinMotd, 'utf8')
    await writeFile(twinMotd, `${was}kept-compare edit\n`)
    const edited = await traced('plan', '--json')
    assert.deepEqual(plan(edited).changes.map((c) => c.id), ['files:replace:/etc/motd'], edited.stdout)
    try {
      assert.ok(filesDocuments(edited.opened).includes('system/files/manifest.json'), edited.opened.join(', '))
      const status = await root().statusJson<StatusJson>()
      assert.deepEqual(status.pending.items.map((i) => i.resource), ['/etc/motd'], JSON.stringify(status))
      assert.equal(status.drift, false)
    } finally {
      // Put back as it was: nothing planned again.
      await writeFile(twinMotd, was)
    }
    assert.deepEqual(await root().planIds(), [])
  })

  it('plans a change of the machine after such a plan, and status says it is drift', async () => {
    await traced('plan', '--json')
    const motd = join(root().rootfs.dir, 'etc/motd')
    const was = await readFile(motd, 'utf8')
    await writeFile(motd, `${was}changed on the machine\n`)
    try {
      const changed = await traced('plan', '--json')
      assert.deepEqual(plan(changed).changes.map((c) => c.id), ['files:replace:/etc/motd'], changed.stdout)
      const status = await root().statusJson<StatusJson>()
      assert.equal(status.drift, true, JSON.stringify(status))
      assert.deepEqual(status.changes.map((c) => c.id), ['files:replace:/etc/motd'])
    } finally {
      await writeFile(motd, was)
    }
    // The machine as the twin has it again (another mtime, so another token): compared, nothing planned.
    assert.deepEqual(await root().planIds(), [])
  })

  it('plans a commit made by hand on top of the snapshot the comparison was kept for', async () => {
    const snap = await traced('snapshot', '--json')
    assert.equal(snap.code, 0, snap.stderr)
    await traced('plan', '--json')
    await traced('status', '--json')
    const twinMotd = join(root().twinDir, 'filesystem/etc/motd')
    await writeFile(twinMotd, `${await readFile(twinMotd, 'utf8')}committed by hand\n`)
    await commitTwin(root().twinDir, 'an edit by hand')
    const committed = await traced('plan', '--json')
    assert.deepEqual(plan(committed).changes.map((c) => c.id), ['files:replace:/etc/motd'], committed.stdout)
    const status = await root().statusJson<StatusJson>()
    assert.deepEqual(status.pending.items.map((i) => i.resource), ['/etc/motd'], JSON.stringify(status))
  })
})
