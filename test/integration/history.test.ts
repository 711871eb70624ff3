import { strict as assert } from 'node:assert'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { gitLog, json, useCliRoot } from '../support/cli.js'
import { countPhrase } from '../../core/src/vocabulary.js'

/** history, show, diff, label and gc through the real binary on a Debian root. */
describe('twinsync history commands on a Debian root (--root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({ init: ['--label', 'base'] })
  const twinsync = (...args: string[]) => root().twinsync(...args)

  before(async () => {
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'one\n')
    await writeFile(join(root().rootfs.dir, 'etc/issue.net'), 'Debian\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'two\n')
    assert.equal((await twinsync('snapshot')).code, 0)
  })

  it('lists snapshots newest first with per-domain counts and labels', async () => {
    const r = await twinsync('history', '--json')
    assert.equal(r.code, 0, r.stderr)
    const entries = json<Array<{ message: string; labels: string[]; counts: Record<string, number>; kind: string }>>(r)
    assert.equal(entries.length, 4)
    assert.equal(entries[3]?.kind, 'init')
    assert.deepEqual(entries[2]?.labels, ['base'])
    assert.equal(entries[1]?.counts.files, 2, 'motd and issue.net: files, not the twin documents that hold them')
    const onlyPackages = json<unknown[]>(await twinsync('history', '--json', '--domain', 'packages'))
    assert.equal(onlyPackages.length, 1, 'only the first snapshot changed packages')
  })

  it('counts the same things in history, show, diff and their --json, in the same unit (items)', async () => {
    const entries = json<Array<{ commit: string; parent: string | null; counts: Record<string, number> }>>(await twinsync('history', '--json'))
    const listed = (await twinsync('history')).stdout
    for (const entry of entries) {
      const shown = await twinsync('show', entry.commit, '--json')
      assert.equal(shown.code, 0, shown.stderr)
      const c = json<{ counts: Record<string, number>; domains: Record<string, unknown[]> }>(shown)
      assert.deepEqual(c.counts, entry.counts, `show ${entry.commit} and history disagree`)
      assert.deepEqual(c.counts, Object.fromEntries(Object.entries(c.domains).filter(([, l]) => l.length > 0).map(([d, l]) => [d, new Set((l as Array<{ resource: string }>).map((x) => x.resource)).size])))
      // what a person reads: "2 files" in the list is "files: 2 files" in the detail
      const text = (await twinsync('show', entry.commit)).stdout
      const line = listed.split('\n')[listed.split('\n').findIndex((l) => l.includes(entry.commit.slice(0, 12))) + 1] ?? ''
      for (const [domain, n] of Object.entries(entry.counts)) {
        const said = countPhrase(domain, n, { twinFiles: (c.domains[domain] as Array<{ twinFile?: boolean }>).every((x) => x.twinFile === true) })
        assert.match(text, new RegExp(`^${domain}: ${said.replace(/[()]/g, '\\$&')}$`, 'm'), text)
        assert.ok(line.includes(said), `${line} says ${said}`)
      }
      if (entry.parent !== null) {
        const d = json<{ counts: Record<string, number> }>(await twinsync('diff', entry.parent, entry.commit, '--json'))
        assert.deepEqual(d.counts, entry.counts, `diff ${entry.parent}..${entry.commit} and history disagree`)
      }
    }
    assert.deepEqual(entries[0]?.counts, { files: 1 }, 'motd: one file changed')
  })

  it('diffs two snapshots in observed words, with file diffs on request', async () => {
    const r = await twinsync('diff', 'base', 'HEAD', '--diff', '--json')
    assert.equal(r.code, 0, r.stderr)
    const files = json<{ domains: { files: Array<{ resource: string; diff?: string }> } }>(r).domains.files
    assert.deepEqual(files.map((f) => f.resource).sort(), ['/etc/issue.net', '/etc/motd'])
    assert.match(files.find((f) => f.resource === '/etc/motd')?.diff ?? '', /^\+two$/m)
    assert.deepEqual(json<{ domains: { files: Array<{ summary: string }> } }>(r).domains.files.map((f) => f.summary).sort(), ['/etc/issue.net changed', '/etc/motd changed'])
  })

  it('labels an existing snapshot, and refuses a taken or malformed label without committing', async () => {
    assert.equal((await twinsync('label', 'HEAD~1', 'middle')).code, 0)
    const show = json<{ to: { labels: string[] } }>(await twinsync('show', 'middle', '--json'))
    assert.deepEqual(show.to.labels, ['middle'])
    const before = await gitLog(root().twinDir)
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'three\n')
    const taken = await twinsync('snapshot', '--label', 'base')
    assert.equal(taken.code, 2)
    assert.match(taken.stderr, /\[LABEL_EXISTS\]/)
    const bad = await twinsync('snapshot', '--label', 'no good')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /\[NAME_INVALID\]/)
    assert.deepEqual(await gitLog(root().twinDir), before)
    const unknown = await twinsync('show', 'no-such-snapshot')
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /\[SNAPSHOT_UNKNOWN\]/)
    // Its next step is a command that can be pasted as it is (no placeholder) and lists the snapshots.
    const next = /`twinsync (history --repo \S+)`/.exec(unknown.stderr)
    assert.ok(next?.[1], unknown.stderr)
    const listed = await root().cli.twinsync([...next[1].split(' '), '--root', root().rootfs.dir])
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, /base/)
  })

  it('reports the repository size with gc', async () => {
    const r = await twinsync('gc', '--json')
    assert.equal(r.code, 0, r.stderr)
    const report = json<{ sizeBefore: number; sizeAfter: number; commitsBefore: number; commitsAfter: number }>(r)
    assert.ok(report.sizeAfter > 0 && report.sizeAfter <= report.sizeBefore, JSON.stringify(report))
    assert.equal(report.commitsAfter, report.commitsBefore)
  })
})
