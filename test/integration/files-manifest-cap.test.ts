// A files manifest longer than MAX_MANIFEST_ENTRIES (plugins/files/src/manifest.ts), through the
// real binary on a small hand-made root (session 37). Before, a manifest with 100,000 extra
// entries (12.4 MB) made `plan` take 38 s and 383 MB, and the 64 MiB document limit let about
// 500,000 through: a pull took such a mirror, and every plan and status after it paid.
// - an edited manifest: plan, status and apply refuse it (FILES_MANIFEST_INVALID naming the limit,
//   the next step; apply exits 2), nothing planned, nothing changed;
// - a pulled one: refused whole (TWIN_UNSAFE, exit 2) before the working twin moves;
// - `discard files` of an unreadable manifest edit names the document it put back.
// The limit at its boundary (one document, parts together): plugins/files/test/manifest-cap.test.ts.
// The extra entries are mirrored files with no document (each an info "removed from the twin", no
// change: the root has none of them), so the old code reaches its answer in seconds too.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_MANIFEST_ENTRIES } from '../../plugins/files/src/manifest.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'
import { FILES_ONLY, SMALL_ETC, checksum, git } from '../support/in-process-twin.js'

const MANIFEST = 'system/files/manifest.json'

describe('a files manifest over MAX_MANIFEST_ENTRIES, or unreadable: refused before it is planned, and by a pull; discard says what it dropped', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string
  let mirror: string
  let initial: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const state = async () => `${git(cli.twinDir, ['rev-parse', 'HEAD'])}${git(cli.twinDir, ['status', '--porcelain'])}${git(cli.twinDir, ['for-each-ref', '--format=%(refname) %(objectname)'])}${await checksum(root)}`

  /** The twin's manifest grown to `total` entries, each added a document-less mirrored file under /etc/gen (made here: about 1 s). */
  async function grown(total: number): Promise<string> {
    const manifest = JSON.parse(await readFile(join(cli.twinDir, MANIFEST), 'utf8')) as { entries: Array<{ path: string }> }
    for (let i = 0, extra = total - manifest.entries.length; i < extra; i++) manifest.entries.push({ content: 'mirrored', gid: 0, mode: '0644', path: `/etc/gen/f${String(i).padStart(7, '0')}`, size: 0, type: 'file', uid: 0 } as { path: string })
    manifest.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    return JSON.stringify(manifest)
  }

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    for (const [path, text] of Object.entries(SMALL_ETC)) {
      await mkdir(join(root, path, '..'), { recursive: true })
      await writeFile(join(root, path), text)
    }
    await writeFile(cli.configFile, FILES_ONLY)
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stdout + first.stderr)
    initial = git(cli.twinDir, ['rev-parse', 'HEAD']).trim()
    mirror = join(cli.dir, 'mirror.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    const set = await twinsync('remote', 'set', mirror)
    assert.equal(set.code, 0, set.stdout + set.stderr)
  })
  after(() => cli.cleanup())
  afterEach(() => {
    git(cli.twinDir, ['reset', '--quiet', '--hard', initial])
    git(cli.twinDir, ['clean', '--quiet', '-fdx'])
  })

  it(`an edited manifest of ${(MAX_MANIFEST_ENTRIES + 1).toLocaleString('en')} entries: plan, status and apply refuse it naming the limit (FILES_MANIFEST_INVALID, apply exit 2), nothing changed`, async () => {
    await writeFile(join(cli.twinDir, MANIFEST), await grown(MAX_MANIFEST_ENTRIES + 1))
    const before = await state()
    const refusal = /The files manifest lists 100,001 entries or more \(system\/files\/manifest\.json passes the limit\), more than the 100,000 TwinSync takes; it was not read/
    const plan = await twinsync('plan')
    const said = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}:\n${r.stdout.slice(0, 3000)}\n${r.stderr.slice(0, 3000)}`
    assert.equal(plan.code, 1, said(plan))
    assert.match(plan.stdout, refusal, said(plan))
    assert.match(plan.stdout, /\[FILES_MANIFEST_INVALID\]\n\s+Nothing of files is planned\. Remove the added entries from the twin, or go back to the last snapshot's manifest with `twinsync discard files --root [^`]+`/, said(plan))
    assert.match(plan.stdout, /^No changes can be planned until the errors below are fixed\./, said(plan))
    const status = await twinsync('status')
    assert.equal(status.code, 1, said(status))
    assert.match(status.stdout, /NOT in sync: 1 part of the twin not compared/, said(status))
    assert.match(status.stdout, refusal, said(status))
    const apply = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(apply.code, 2, said(apply))
    assert.match(apply.stderr, /\[PLAN_INVALID\] Nothing was applied: the plan has 1 error\(s\): files: The files manifest lists 100,001 entries/, said(apply))
    assert.equal(await state(), before, 'no commit, no ref moved, the working twin and the machine unchanged')
  })

  it(`a pull of a mirror whose manifest lists ${(MAX_MANIFEST_ENTRIES + 1).toLocaleString('en')} entries is TWIN_UNSAFE (exit 2) before the working twin moves`, async () => {
    git(cli.twinDir, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
    const clone = join(cli.dir, 'clone')
    execFileSync('git', ['clone', '--quiet', mirror, clone])
    await writeFile(join(clone, MANIFEST), await grown(MAX_MANIFEST_ENTRIES + 1))
    git(clone, ['commit', '--quiet', '-am', 'a mirror brings 100,001 manifest entries'])
    git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
    execFileSync('rm', ['-rf', clone])
    const before = await state()
    const pull = await twinsync('pull', '--no-apply')
    const said = `exit ${pull.code}:\n${pull.stdout.slice(0, 3000)}\n${pull.stderr.slice(0, 3000)}`
    assert.equal(pull.code, 2, said)
    assert.match(pull.stderr, /\[TWIN_UNSAFE\] Not pulled: the mirror's twin at [0-9a-f]{12}: The files manifest lists 100,001 entries or more \(system\/files\/manifest\.json passes the limit\), more than the 100,000 TwinSync takes/, said)
    assert.match(pull.stderr, /Next step: Nothing here was changed\. Take those entries out on the mirror/, said)
    // HEAD, the working twin and the machine are as they were (session 46: the tracking ref too, as the refused commit never moves it).
    const after = await state()
    const mine = (s: string) => s.split('\n').filter((l) => !l.startsWith('refs/remotes/')).join('\n')
    assert.equal(mine(after), mine(before), 'HEAD, the working twin, the refs and the machine unchanged')
    git(cli.twinDir, ['update-ref', '-d', 'refs/remotes/mirror/main'])
  })

  // Before session 37 uid 4294967295 ((uid_t)-1, chown's "leave it as it is") was planned as a
  // high-risk chown, reported "applied" with the owner unchanged, and the apply's snapshot then
  // dropped the ask; uid 10^20 failed the step with Node's "out of range".
  for (const [key, value] of [['uid', 4_294_967_295], ['gid', 1e20]] as const) {
    it(`an entry with ${key} ${value} (no file can have it) is FILES_MANIFEST_INVALID: plan and apply refuse it (apply exit 2), nothing changed`, async () => {
      const manifest = JSON.parse(await readFile(join(cli.twinDir, MANIFEST), 'utf8')) as { entries: Array<Record<string, unknown>> }
      const motd = manifest.entries.find((e) => e.path === '/etc/motd') as Record<string, unknown>
      motd[key] = value
      delete motd[key === 'uid' ? 'owner' : 'group']
      await writeFile(join(cli.twinDir, MANIFEST), JSON.stringify(manifest, null, 2))
      const before = await state()
      const said = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}:\n${r.stdout}\n${r.stderr}`
      const plan = await twinsync('plan')
      assert.equal(plan.code, 1, said(plan))
      assert.match(plan.stdout, new RegExp(`system/files/manifest\\.json is not a valid manifest: entry "/etc/motd" has ${key} ${value}, which no file can have \\(at most 4294967294; 4294967295 is chown's "unchanged"\\) \\[FILES_MANIFEST_INVALID\\]`), said(plan))
      const apply = await twinsync('apply', '--yes', '--accept-high-risk')
      assert.equal(apply.code, 2, said(apply))
      assert.match(apply.stderr, /\[PLAN_INVALID\] Nothing was applied/, said(apply))
      assert.equal(await state(), before, 'no commit, the edit still pending, /etc/motd as it was')
    })
  }

  // Before session 37 `discard files` said "Discarded the pending intent of 0 items" and dropped
  // the edit all the same (the TUI, through the same ReconcileService, said nothing of it).
  it('discard files on a manifest edit the provider cannot read names the document it put back (CLI and history)', async () => {
    await writeFile(join(cli.twinDir, MANIFEST), '{"entries": "all"}\n')
    const discard = await twinsync('discard', 'files')
    const said = `exit ${discard.code}:\n${discard.stdout}\n${discard.stderr}`
    assert.equal(discard.code, 0, said)
    assert.match(discard.stdout, /^Discarded the pending intent of 1 item \(commit [0-9a-f]{12}\):\n  files:document:system\/files\/manifest\.json  the edit of system\/files\/manifest\.json, which the files provider could not read; back as the last snapshot has it\nNothing is pending any more\.$/m, said)
    assert.doesNotMatch(discard.stdout, /0 items/, said)
    assert.equal(await readFile(join(cli.twinDir, MANIFEST), 'utf8'), git(cli.twinDir, ['show', `${initial}:${MANIFEST}`]), 'the manifest is back as the snapshot has it')
    assert.match(git(cli.twinDir, ['log', '-1', '--format=%B']), /^TwinSync discard files:document:system\/files\/manifest\.json\n[\s\S]*- files:document:system\/files\/manifest\.json: the edit of system\/files\/manifest\.json/)
  })
})
