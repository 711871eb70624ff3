// The twin's executable bit (session 42): git keeps one mode bit, and a person's or a mirror's
// `chmod +x` in the twin is an ask like the manifest's mode. Before, it was dropped without a
// word: the plan planned nothing for a listed file, a new script was planned 0644, and the next
// snapshot wrote 100644. Now the whole way: planned (rated as any chmod that makes a file run),
// applied, recorded by the next snapshot (100755, manifest 0755), nothing pending after.
// hostile-twin.test.ts has the pull side (a mirror commit; status lists it; a snapshot keeps it).
// Session 43: the other way, a `chmod -x` in the twin (100755 → 100644 where the manifest's mode
// has x bits) was still ignored: in sync, nothing planned, and the next snapshot put 100755 back.
// Taken now where the last snapshot had the file executable: the change is against what TwinSync
// committed, never inferred from an older twin whose bits and manifest disagree.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { chmod, lstat, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Plan } from '@twinsync/sdk'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { HistoryService, type Comparison } from '../../core/src/history/history-service.js'
import { IntentService } from '../../core/src/intent/intent-service.js'
import { ReconcileService } from '../../core/src/intent/reconcile-service.js'
import { RemoteService } from '../../core/src/remote/remote-service.js'
import { PlanWorkflow, revertPlan } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { StatusWorkflow } from '../../core/src/services/drift-status.js'
import { SMALL_ETC, git, smallTwin, type SmallTwin } from '../support/in-process-twin.js'

/** The small root with two scripts the machine runs (0755, so the first snapshot writes 100755 and 0755). */
const WITH_SCRIPTS = {
  ...SMALL_ETC,
  'etc/update-motd.d/10-uname': { text: '#!/bin/sh\nuname -snrvm\n', mode: 0o755 },
  'etc/cron.daily/backup': { text: '#!/bin/sh\necho backup\n', mode: 0o755 },
}
const UNAME = 'filesystem/etc/update-motd.d/10-uname'
const BACKUP = 'filesystem/etc/cron.daily/backup'

/** Each change as [id, risk, the mode after ("file 0644 root:root …")]. */
const modes = (plan: Plan) => plan.changes.map((c) => [c.id, c.risk, c.after?.split(' ')[1]])
const gitMode = (t: SmallTwin, ref: string, path: string) => git(t.twin, ['ls-tree', ref, path]).split(' ')[0]
const manifestMode = (t: SmallTwin, ref: string, path: string) =>
  (JSON.parse(git(t.twin, ['show', `${ref}:system/files/manifest.json`])) as { entries: Array<{ path: string; mode?: string }> }).entries.find((e) => e.path === path)?.mode
const executable = async (path: string) => ((await lstat(path)).mode & 0o111) !== 0
/** What a comparison says the files did: [summary, before's mode, after's mode]. */
const filesSaid = (c: Comparison) => (c.domains.files ?? []).map((d) => [d.summary, d.before?.split(' ')[1], d.after?.split(' ')[1]])

/** A bare mirror of the twin and a clone of it, where `commit` makes each of the mirror's commits (pushed), then the twin pulls them. */
async function pulled(t: SmallTwin, commits: Array<(clone: string) => void>): Promise<void> {
  const mirror = join(t.dir, 'mirror.git')
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
  await (await t.container()).resolve(RemoteService).setGitRemote(mirror, undefined)
  git(t.twin, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
  const clone = join(t.dir, 'clone')
  execFileSync('git', ['clone', '--quiet', mirror, clone])
  for (const commit of commits) commit(clone)
  git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
  assert.equal((await (await t.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
}

/** The commit an adopt before session 43 made of the machine's edit of the backup script: its content 100644 in git, the manifest's hash and size new, its mode 0755. */
async function oldAdoptCommit(t: SmallTwin, edited: string): Promise<string> {
  writeFileSync(join(t.root, 'etc/cron.daily/backup'), edited)
  writeFileSync(join(t.twin, BACKUP), edited)
  await chmod(join(t.twin, BACKUP), 0o644)
  const path = join(t.twin, 'system/files/manifest.json')
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { entries: Array<{ path: string; mode?: string; size?: number; sha256?: string }> }
  const entry = manifest.entries.find((e) => e.path === '/etc/cron.daily/backup')
  assert.ok(entry)
  entry.size = Buffer.byteLength(edited)
  entry.sha256 = createHash('sha256').update(edited).digest('hex')
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
  git(t.twin, ['add', BACKUP, 'system/files/manifest.json'])
  git(t.twin, ['commit', '--quiet', '-m', 'TwinSync adopt files:replace:/etc/cron.daily/backup'])
  const adopt = git(t.twin, ['rev-parse', 'HEAD']).trim()
  git(t.twin, ['update-ref', 'refs/twinsync/observed', adopt])
  assert.deepEqual([gitMode(t, adopt, BACKUP), manifestMode(t, adopt, '/etc/cron.daily/backup')], ['100644', '0755'])
  return adopt
}

describe('the twin\'s executable bit', function () {
  this.timeout(120_000)

  it('chmod +x of a listed file and a new script made executable in the working twin: planned 0755 (high risk: made executable under /etc), applied, recorded 100755 and 0755, nothing pending after', async () => {
    const t = await smallTwin('twinsync-execbit-')
    try {
      git(t.twin, ['update-index', '--chmod=+x', 'filesystem/etc/motd'])
      await chmod(join(t.twin, 'filesystem/etc/motd'), 0o755)
      writeFileSync(join(t.twin, 'filesystem/etc/backup.sh'), '#!/bin/sh\necho backup\n', { mode: 0o755 })
      const plan = await (await t.container()).resolve(PlanWorkflow).plan({})
      assert.deepEqual(
        plan.changes.map((c) => [c.id, c.risk, c.after?.split(' ')[1]]),
        [
          ['files:create:/etc/backup.sh', 'high', '0755'],
          ['files:chmod:/etc/motd', 'high', '0755'],
        ],
      )
      await (await t.container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
      for (const path of ['etc/motd', 'etc/backup.sh']) assert.equal(((await stat(join(t.root, path))).mode & 0o777).toString(8), '755', path)
      assert.match(git(t.twin, ['ls-tree', 'HEAD', 'filesystem/etc/motd']), /^100755 /)
      assert.match(git(t.twin, ['ls-tree', 'HEAD', 'filesystem/etc/backup.sh']), /^100755 /)
      const manifest = JSON.parse(git(t.twin, ['show', 'HEAD:system/files/manifest.json'])) as { entries: Array<{ path: string; mode?: string }> }
      assert.deepEqual(manifest.entries.filter((e) => e.path === '/etc/motd' || e.path === '/etc/backup.sh').map((e) => [e.path, e.mode]), [['/etc/backup.sh', '0755'], ['/etc/motd', '0755']])
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items, [])
      assert.deepEqual((await (await t.container()).resolve(PlanWorkflow).plan({})).changes, [])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('chmod -x of an executable file in the working twin: planned 0644, pending, kept by a snapshot (which records the machine, 100755), applied, recorded 100644 and 0644, nothing pending after (before session 43: in sync, and the snapshot put 100755 back)', async () => {
    const t = await smallTwin('twinsync-execoff-', { files: WITH_SCRIPTS })
    try {
      await chmod(join(t.twin, UNAME), 0o644)
      const planned = [['files:chmod:/etc/update-motd.d/10-uname', 'low', '0644']]
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})), planned)
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items.map((i) => i.id), ['files:chmod:/etc/update-motd.d/10-uname'])
      // A snapshot of a changed machine: it records the machine's 0755 and keeps the ask.
      writeFileSync(join(t.root, 'etc/motd'), 'Welcome back\n')
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      assert.equal(gitMode(t, 'HEAD', UNAME), '100755', 'the snapshot records the machine')
      assert.equal(manifestMode(t, 'HEAD', '/etc/update-motd.d/10-uname'), '0755')
      assert.equal(gitMode(t, 'refs/twinsync/intended', UNAME), '100644', 'the intent records the bit')
      assert.equal(await executable(join(t.twin, UNAME)), false, 'kept in the working twin')
      // And one with nothing to record.
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      assert.equal(await executable(join(t.twin, UNAME)), false, 'kept by a snapshot that commits nothing')
      const plan = await (await t.container()).resolve(PlanWorkflow).plan({})
      assert.deepEqual(modes(plan), planned)
      await (await t.container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: false, signal: new AbortController().signal })
      assert.equal(((await stat(join(t.root, 'etc/update-motd.d/10-uname'))).mode & 0o777).toString(8), '644')
      assert.equal(((await stat(join(t.root, 'etc/cron.daily/backup'))).mode & 0o777).toString(8), '755', 'the other script is left as it is')
      assert.equal(gitMode(t, 'HEAD', UNAME), '100644')
      assert.equal(manifestMode(t, 'HEAD', '/etc/update-motd.d/10-uname'), '0644')
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items, [])
      assert.deepEqual((await (await t.container()).resolve(PlanWorkflow).plan({})).changes, [])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('a mirror\'s chmod -x (update-index --chmod=-x, pulled): planned 0644 and pending, kept by a snapshot, and discard puts 100755 back with nothing pending', async () => {
    const t = await smallTwin('twinsync-execoff-pull-', { files: WITH_SCRIPTS })
    try {
      const mirror = join(t.dir, 'mirror.git')
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
      await (await t.container()).resolve(RemoteService).setGitRemote(mirror, undefined)
      git(t.twin, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
      const clone = join(t.dir, 'clone')
      execFileSync('git', ['clone', '--quiet', mirror, clone])
      git(clone, ['update-index', '--chmod=-x', BACKUP])
      git(clone, ['commit', '--quiet', '-m', 'not executable'])
      git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
      assert.equal((await (await t.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
      assert.equal(gitMode(t, 'HEAD', BACKUP), '100644')
      const planned = [['files:chmod:/etc/cron.daily/backup', 'low', '0644']]
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})), planned)
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items.map((i) => i.id), ['files:chmod:/etc/cron.daily/backup'])
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      assert.equal(gitMode(t, 'HEAD', BACKUP), '100755', 'the snapshot records the machine')
      assert.equal(await executable(join(t.twin, BACKUP)), false, 'the ask is kept in the working twin')
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})), planned)
      await (await t.container()).resolve(ReconcileService).discard(['files:chmod:/etc/cron.daily/backup'])
      assert.equal(await executable(join(t.twin, BACKUP)), true, 'discard puts the bit back')
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items, [])
      assert.deepEqual((await (await t.container()).resolve(PlanWorkflow).plan({})).changes, [])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('an older twin whose last snapshot holds 100644 for files its manifest says 0755 (bits and manifest disagreeing already): no chmod -x planned, nothing pending', async () => {
    const t = await smallTwin('twinsync-execoff-old-', { files: WITH_SCRIPTS })
    try {
      // No snapshot ever wrote such a tree (collect.ts writes the bit from the manifest's mode since
      // the first files provider); a hand-committed twin made the last snapshot is the nearest.
      git(t.twin, ['update-index', '--chmod=-x', UNAME, BACKUP])
      await chmod(join(t.twin, UNAME), 0o644)
      await chmod(join(t.twin, BACKUP), 0o644)
      git(t.twin, ['commit', '--quiet', '-m', 'an older twin: the bits not mirrored'])
      git(t.twin, ['update-ref', 'refs/twinsync/observed', 'HEAD'])
      assert.equal(manifestMode(t, 'HEAD', '/etc/cron.daily/backup'), '0755')
      assert.equal(gitMode(t, 'HEAD', BACKUP), '100644')
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})), [])
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items, [])
      // The working twin edited elsewhere (its reader lstats the documents then): still nothing of the bits.
      writeFileSync(join(t.twin, 'filesystem/etc/motd'), 'Edited\n')
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})).map(([id]) => id), ['files:replace:/etc/motd'])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('the manifest\'s mode edited 0755 → 0644 with the document still 100755: planned 0644 (session 42\'s rule planned it back to 0755, the edit lost)', async () => {
    const t = await smallTwin('twinsync-execoff-manifest-', { files: WITH_SCRIPTS })
    try {
      const path = join(t.twin, 'system/files/manifest.json')
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { entries: Array<{ path: string; mode?: string }> }
      const entry = manifest.entries.find((e) => e.path === '/etc/cron.daily/backup')
      assert.equal(entry?.mode, '0755')
      if (entry !== undefined) entry.mode = '0644'
      writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
      assert.equal(await executable(join(t.twin, BACKUP)), true)
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})), [['files:chmod:/etc/cron.daily/backup', 'low', '0644']])
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items.map((i) => i.id), ['files:chmod:/etc/cron.daily/backup'])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('adopt records the machine\'s bit: a script edited on the machine and another made not executable there, adopted, are 100755/0755 and 100644/0644 in its commit, nothing planned (before session 43: written 100644 and left 100755, and session 42\'s rule planned the chmod +x back)', async () => {
    const t = await smallTwin('twinsync-execoff-adopt-', { files: WITH_SCRIPTS })
    try {
      writeFileSync(join(t.root, 'etc/update-motd.d/10-uname'), '#!/bin/sh\nuname -a\n')
      await chmod(join(t.root, 'etc/cron.daily/backup'), 0o644)
      await (await t.container()).resolve(ReconcileService).adopt(['files'])
      assert.deepEqual([gitMode(t, 'HEAD', UNAME), manifestMode(t, 'HEAD', '/etc/update-motd.d/10-uname')], ['100755', '0755'])
      assert.deepEqual([gitMode(t, 'HEAD', BACKUP), manifestMode(t, 'HEAD', '/etc/cron.daily/backup')], ['100644', '0644'])
      assert.equal(await executable(join(t.twin, UNAME)), true)
      assert.equal(await executable(join(t.twin, BACKUP)), false)
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})), [])
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items, [])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('discard of a script\'s edit beside another file\'s edit: the script stays executable and nothing but the other edit is pending (before session 43 it was written back 0644, then taken for a chmod -x)', async () => {
    const t = await smallTwin('twinsync-execoff-discard-', { files: WITH_SCRIPTS })
    try {
      writeFileSync(join(t.twin, UNAME), '#!/bin/sh\nuname -a\n')
      writeFileSync(join(t.twin, 'filesystem/etc/motd'), 'Edited\n')
      const ids = (await (await t.container()).resolve(IntentService).pending()).items.map((i) => i.id)
      assert.deepEqual(ids, ['files:replace:/etc/motd', 'files:replace:/etc/update-motd.d/10-uname'])
      await (await t.container()).resolve(ReconcileService).discard(['files:replace:/etc/update-motd.d/10-uname'])
      assert.equal(readFileSync(join(t.twin, UNAME), 'utf8'), '#!/bin/sh\nuname -snrvm\n')
      assert.equal(await executable(join(t.twin, UNAME)), true, 'the script is executable as the last snapshot has it')
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items.map((i) => i.id), ['files:replace:/etc/motd'])
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})).map(([id]) => id), ['files:replace:/etc/motd'])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('a bit item discarded or adopted apart from the other files items: discard of a chmod -x and of a chmod +x puts each bit back alone; adopt of the machine\'s chmod -x alone records 100644 and 0644 (before session 43: ITEM_INSEPARABLE, and adopt left 100755)', async () => {
    const t = await smallTwin('twinsync-execoff-apart-', { files: WITH_SCRIPTS })
    try {
      await chmod(join(t.twin, UNAME), 0o644)
      await chmod(join(t.twin, 'filesystem/etc/hostname'), 0o755)
      writeFileSync(join(t.twin, 'filesystem/etc/motd'), 'Edited\n')
      const pending = async () => (await (await t.container()).resolve(IntentService).pending()).items.map((i) => i.id).sort()
      assert.deepEqual(await pending(), ['files:chmod:/etc/hostname', 'files:chmod:/etc/update-motd.d/10-uname', 'files:replace:/etc/motd'])
      await (await t.container()).resolve(ReconcileService).discard(['files:chmod:/etc/update-motd.d/10-uname'])
      assert.equal(await executable(join(t.twin, UNAME)), true)
      assert.deepEqual(await pending(), ['files:chmod:/etc/hostname', 'files:replace:/etc/motd'])
      await (await t.container()).resolve(ReconcileService).discard(['files:chmod:/etc/hostname'])
      assert.equal(await executable(join(t.twin, 'filesystem/etc/hostname')), false)
      assert.deepEqual(await pending(), ['files:replace:/etc/motd'])
      // The machine's chmod -x adopted alone, its edit of another file left as drift.
      await chmod(join(t.root, 'etc/cron.daily/backup'), 0o644)
      writeFileSync(join(t.root, 'etc/os-release'), 'ID=debian\n')
      await (await t.container()).resolve(ReconcileService).adopt(['files:chmod:/etc/cron.daily/backup'])
      assert.deepEqual([gitMode(t, 'HEAD', BACKUP), manifestMode(t, 'HEAD', '/etc/cron.daily/backup')], ['100644', '0644'])
      assert.equal(git(t.twin, ['show', 'HEAD:filesystem/etc/os-release']), SMALL_ETC['etc/os-release'], 'the other drift is not adopted')
      assert.deepEqual(await pending(), ['files:replace:/etc/motd'])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('a last snapshot an older adopt wrote (a machine chmod -x adopted: manifest 0644, the document left 100755): status says no drift and the plan nothing (session 42\'s rule read it as 0755: drift "mode changed on the machine", a planned high-risk chmod +x)', async () => {
    const t = await smallTwin('twinsync-execoff-oldadopt-', { files: WITH_SCRIPTS })
    try {
      await chmod(join(t.root, 'etc/cron.daily/backup'), 0o644)
      // The commit such an adopt made: the manifest's mode only (it never wrote a bit-only change).
      const path = join(t.twin, 'system/files/manifest.json')
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { entries: Array<{ path: string; mode?: string }> }
      const entry = manifest.entries.find((e) => e.path === '/etc/cron.daily/backup')
      if (entry !== undefined) entry.mode = '0644'
      writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
      git(t.twin, ['commit', '--quiet', '-am', 'TwinSync adopt files:chmod:/etc/cron.daily/backup'])
      git(t.twin, ['update-ref', 'refs/twinsync/observed', 'HEAD'])
      assert.deepEqual([gitMode(t, 'HEAD', BACKUP), manifestMode(t, 'HEAD', '/etc/cron.daily/backup')], ['100755', '0644'])
      const status = await (await t.container()).resolve(StatusWorkflow).status(undefined)
      assert.deepEqual(status.changes.map((c) => c.id), [])
      assert.deepEqual(status.pending.items, [])
      assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})), [])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  // Session 43 (histbit): history, show and diff read each commit's manifest modes with readers
  // judged against themselves since execoff, so a pulled commit that only changed a document's
  // bit (git 100644 <-> 100755, manifest unchanged) showed no change at all, although the plan
  // makes it. The newer side's bits are now judged against the older side's (history-service.ts).
  describe('in history', () => {
    it('a pulled commit that only chmod +x\'ed filesystem/etc/motd: history counts 1 file, show and diff say "/etc/motd mode changed" 0644 -> 0755 (before: no change at all)', async () => {
      const t = await smallTwin('twinsync-histbit-plus-')
      try {
        await pulled(t, [
          (clone) => {
            git(clone, ['update-index', '--chmod=+x', 'filesystem/etc/motd'])
            git(clone, ['commit', '--quiet', '-m', 'make motd run'])
          },
        ])
        assert.equal(gitMode(t, 'HEAD', 'filesystem/etc/motd'), '100755')
        assert.equal(manifestMode(t, 'HEAD', '/etc/motd'), '0644')
        const history = (await t.container()).resolve(HistoryService)
        const [newest] = await history.history({ limit: 5 })
        assert.deepEqual([newest?.message, newest?.counts, newest?.counted], ['make motd run', { files: 1 }, '1 file'])
        assert.deepEqual(filesSaid(await history.show('HEAD', { diffs: false })), [['/etc/motd mode changed', '0644', '0755']])
        assert.deepEqual(filesSaid(await history.compare(t.initial, 'HEAD', { diffs: false })), [['/etc/motd mode changed', '0644', '0755']])
        // The TUI's history view calls the same service (tui/services.ts); a second listing reads the count cache.
        assert.deepEqual((await (await t.container()).resolve(HistoryService).history({ limit: 1 }))[0]?.counts, { files: 1 })
      } finally {
        await rm(t.dir, { recursive: true, force: true })
      }
    })

    it('a pulled chmod -x of a script, then a pulled edit of another file: history says the mode change once, in its own commit (0755 -> 0644), and only the edit in the next (before: no change in the first); then an edit of the script committed: its commit the content only, a diff across both 0755 -> 0644', async () => {
      const t = await smallTwin('twinsync-histbit-minus-', { files: WITH_SCRIPTS })
      try {
        await pulled(t, [
          (clone) => {
            git(clone, ['update-index', '--chmod=-x', BACKUP])
            git(clone, ['commit', '--quiet', '-m', 'backup stops running'])
          },
          (clone) => {
            writeFileSync(join(clone, 'filesystem/etc/motd'), 'Pulled\n')
            // Not `commit -a`: the clone's file is still executable on disk, and -a would commit its bit back.
            git(clone, ['add', 'filesystem/etc/motd'])
            git(clone, ['commit', '--quiet', '-m', 'a new motd'])
          },
        ])
        const history = (await t.container()).resolve(HistoryService)
        assert.deepEqual(
          (await history.history({ limit: 2 })).map((e) => [e.message, e.counted]),
          [
            ['a new motd', '1 file'],
            ['backup stops running', '1 file'],
          ],
        )
        assert.deepEqual(filesSaid(await history.show('HEAD~1', { diffs: false })), [['/etc/cron.daily/backup mode changed', '0755', '0644']])
        assert.deepEqual(filesSaid(await history.show('HEAD', { diffs: false })).map(([summary]) => summary), ['/etc/motd changed'])
        assert.deepEqual(filesSaid(await history.compare(t.initial, 'HEAD', { diffs: false })).map(([summary]) => summary).sort(), ['/etc/cron.daily/backup mode changed', '/etc/motd changed'])
        // Then an edit of that script committed in the twin, its bit left off: its own commit shows the content only;
        // a diff across both still says 0755 -> 0644 (session 44's rule: the bit's last change kept the content, an ask).
        writeFileSync(join(t.twin, BACKUP), '#!/bin/sh\necho later\n')
        git(t.twin, ['add', BACKUP])
        git(t.twin, ['update-index', '--chmod=-x', BACKUP])
        git(t.twin, ['commit', '--quiet', '-m', 'backup edited'])
        assert.deepEqual(filesSaid(await history.show('HEAD', { diffs: false })), [['/etc/cron.daily/backup changed', '0755', '0755']])
        assert.deepEqual(filesSaid(await history.compare(t.initial, 'HEAD', { diffs: false })).map(([, before, after]) => [before, after]), [['0755', '0644'], ['0644', '0644']])
      } finally {
        await rm(t.dir, { recursive: true, force: true })
      }
    })

    it('snapshots of the machine (bits and manifest agreeing) show as before: a chmod +x and a chmod -x on the machine each "mode changed", an edit "changed", nothing else', async () => {
      const t = await smallTwin('twinsync-histbit-own-', { files: WITH_SCRIPTS })
      try {
        const snapshot = async () => (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
        await chmod(join(t.root, 'etc/motd'), 0o755)
        await chmod(join(t.root, 'etc/cron.daily/backup'), 0o644)
        await snapshot()
        writeFileSync(join(t.root, 'etc/hostname'), 'renamed\n')
        await snapshot()
        assert.deepEqual([gitMode(t, 'HEAD', 'filesystem/etc/motd'), gitMode(t, 'HEAD', BACKUP)], ['100755', '100644'])
        const history = (await t.container()).resolve(HistoryService)
        assert.deepEqual((await history.history({ limit: 3 })).map((e) => e.counts.files), [1, 2, 6])
        assert.deepEqual(filesSaid(await history.show('HEAD~1', { diffs: false })), [
          ['/etc/cron.daily/backup mode changed', '0755', '0644'],
          ['/etc/motd mode changed', '0644', '0755'],
        ])
        assert.deepEqual(filesSaid(await history.show('HEAD', { diffs: false })).map(([summary]) => summary), ['/etc/hostname changed'])
        assert.deepEqual(filesSaid(await history.compare(t.initial, 'HEAD', { diffs: false })).map(([summary]) => summary), [
          '/etc/cron.daily/backup mode changed',
          '/etc/hostname changed',
          '/etc/motd mode changed',
        ])
      } finally {
        await rm(t.dir, { recursive: true, force: true })
      }
    })

    it('an older adopt\'s commit (a script\'s machine edit adopted: written 100644 beside its manifest\'s 0755): history, show and diff say the script changed, its mode 0755 on both sides (before: "0755 -> 0644", a mode change the adopt never made)', async () => {
      const t = await smallTwin('twinsync-histbit-oldadopt-', { files: WITH_SCRIPTS })
      try {
        const history = (await t.container()).resolve(HistoryService)
        await oldAdoptCommit(t, '#!/bin/sh\necho backup to tape\n')
        assert.equal((await history.history({ limit: 1 }))[0]?.counted, '1 file')
        assert.deepEqual(filesSaid(await history.show('HEAD', { diffs: false })), [['/etc/cron.daily/backup changed', '0755', '0755']])
        assert.deepEqual(filesSaid(await history.compare(t.initial, 'HEAD', { diffs: false })), [['/etc/cron.daily/backup changed', '0755', '0755']])
      } finally {
        await rm(t.dir, { recursive: true, force: true })
      }
    })

    it('a pulled commit that chmod -x\'ed a script and changed its content at once: history shows the content change, the manifest\'s 0755 standing (the content rule\'s known cost, bitJudgedAgainst; before: 0755 -> 0644); the plan still plans the edit at 0644', async () => {
      const t = await smallTwin('twinsync-histbit-both-', { files: WITH_SCRIPTS })
      try {
        await pulled(t, [
          (clone) => {
            writeFileSync(join(clone, BACKUP), '#!/bin/sh\necho pulled\n')
            git(clone, ['add', BACKUP])
            git(clone, ['update-index', '--chmod=-x', BACKUP])
            git(clone, ['commit', '--quiet', '-m', 'backup edited and stopped'])
          },
        ])
        const history = (await t.container()).resolve(HistoryService)
        assert.deepEqual(filesSaid(await history.show('HEAD', { diffs: false })), [['/etc/cron.daily/backup changed', '0755', '0755']])
        assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({ only: ['files'] })), [['files:replace:/etc/cron.daily/backup', 'high', '0644']])
      } finally {
        await rm(t.dir, { recursive: true, force: true })
      }
    })
  })
})

// Session 44: a commit read as a whole (`plan --from`, a revert) was judged against itself, its
// manifest's modes standing, so a revert to a commit that had a twin's chmod -x (or +x) never made
// it. Now a bit last changed by a commit that kept the content is that commit's ask
// (GitTreeReader's AS_MADE); a bit written with new content (an older adopt's 100644 beside 0755)
// is not, so such a revert never makes a script not executable.
describe('a commit read as a whole (plan --from, revert) and the executable bit', function () {
  this.timeout(120_000)
  const planFrom = async (t: SmallTwin, from: string) => modes(await (await t.container()).resolve(PlanWorkflow).plan({ from, only: ['files'] })).sort((a, b) => String(a[0]).localeCompare(String(b[0])))
  /** A person's commit in the twin: `chmod` (git's update-index --chmod and the file's own mode) of `path`, then `git commit`. */
  const chmodCommit = (t: SmallTwin, path: string, how: '+x' | '-x') => {
    git(t.twin, ['update-index', `--chmod=${how}`, path])
    execFileSync('chmod', [how === '+x' ? 'a+x' : 'a-x', join(t.twin, path)])
    git(t.twin, ['commit', '--quiet', '-m', `chmod ${how} ${path}`])
    return git(t.twin, ['rev-parse', 'HEAD']).trim()
  }

  it('a commit with a chmod -x of a script, and one after it: plan --from either plans 0644, and the revert makes it (before: nothing planned)', async () => {
    const t = await smallTwin('twinsync-wholebit-minus-', { files: WITH_SCRIPTS })
    try {
      const minus = chmodCommit(t, UNAME, '-x')
      writeFileSync(join(t.twin, 'filesystem/etc/motd'), 'After the chmod\n')
      git(t.twin, ['commit', '--quiet', '-am', 'motd'])
      const after = git(t.twin, ['rev-parse', 'HEAD']).trim()
      assert.deepEqual([gitMode(t, minus, UNAME), manifestMode(t, minus, '/etc/update-motd.d/10-uname')], ['100644', '0755'])
      const chmod = ['files:chmod:/etc/update-motd.d/10-uname', 'low', '0644']
      assert.deepEqual(await planFrom(t, minus), [chmod])
      // The working twin is exactly the later commit (the reader of the working twin, judged as that commit).
      assert.deepEqual(await planFrom(t, after), [chmod, ['files:replace:/etc/motd', 'medium', '0644']])
      // The revert itself (the plan `twinsync revert` makes, applied).
      const plan = await (await t.container()).resolve(PlanWorkflow).plan(revertPlan(minus))
      assert.deepEqual(modes(plan).filter(([id]) => String(id).startsWith('files:')), [chmod])
      await (await t.container()).resolve(ApplyService).apply({ plan, fromFile: false, revertTo: minus, signal: new AbortController().signal })
      assert.equal(await executable(join(t.root, 'etc/update-motd.d/10-uname')), false, 'reverted to not executable')
      assert.equal(await executable(join(t.root, 'etc/cron.daily/backup')), true, 'the other script is left as it is')
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('a commit with a chmod +x of /etc/motd: plan --from it plans 0755 (before: nothing planned)', async () => {
    const t = await smallTwin('twinsync-wholebit-plus-')
    try {
      const plus = chmodCommit(t, 'filesystem/etc/motd', '+x')
      writeFileSync(join(t.twin, 'filesystem/etc/hostname'), 'later\n')
      git(t.twin, ['commit', '--quiet', '-am', 'hostname'])
      assert.deepEqual(await planFrom(t, plus), [['files:chmod:/etc/motd', 'high', '0755']])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('an older adopt\'s commit (a script\'s machine edit adopted: written 100644 beside its manifest\'s 0755), not the last snapshot: plan --from it makes no script not executable', async () => {
    const t = await smallTwin('twinsync-wholebit-oldadopt-', { files: WITH_SCRIPTS })
    try {
      const adopt = await oldAdoptCommit(t, '#!/bin/sh\necho backup to tape\n')
      assert.deepEqual(await planFrom(t, adopt), [], 'the adopt as the last snapshot: nothing')
      // A later snapshot (the machine's motd changed): the adopt is an older commit now.
      writeFileSync(join(t.root, 'etc/motd'), 'Later\n')
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      assert.notEqual(git(t.twin, ['rev-parse', 'refs/twinsync/observed']).trim(), adopt)
      assert.deepEqual(await planFrom(t, adopt), [['files:replace:/etc/motd', 'medium', '0644']], 'the motd back, no chmod -x of the script')
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })
})

// A person's chmod committed in the twin (session 44): `git commit` of a chmod -x or +x alone, so
// the twin's HEAD is a commit of theirs, not a snapshot (refs/twinsync/observed stays the last
// snapshot). The ask must outlive an adopt of another item, a snapshot, and, pulled from a
// mirror, a snapshot: each takes a new "last snapshot", and a bit judged against the wrong one
// would be dropped without a word. A guard: these pass on the code before them (0d894279); the
// asks hold because a snapshot or adopt sets the twin aside (refs/twinsync/intended) against
// refs/twinsync/observed, never against HEAD. Reading the last snapshot as HEAD (observed())
// loses the asks right after the commit and after the pull.
const MOTD = 'filesystem/etc/motd'
const ASKS = [
  ['files:chmod:/etc/motd', 'high', '0755'],
  ['files:chmod:/etc/update-motd.d/10-uname', 'low', '0644'],
]

/** A person's commit in `dir` of chmod -x of the script and chmod +x of /etc/motd, nothing else. */
function personsChmodCommit(dir: string): void {
  git(dir, ['update-index', '--chmod=-x', UNAME])
  git(dir, ['update-index', '--chmod=+x', MOTD])
  git(dir, ['commit', '--quiet', '-m', 'script off, motd on'])
  git(dir, ['checkout', '--quiet', '--', UNAME, MOTD])
}

async function asksHeld(t: SmallTwin, when: string): Promise<void> {
  const c = await t.container()
  assert.deepEqual(modes(await c.resolve(PlanWorkflow).plan({})), ASKS, `planned ${when}`)
  const status = await c.resolve(StatusWorkflow).status(undefined)
  assert.deepEqual(status.pending.items.map((i) => i.id).sort(), ASKS.map(([id]) => id), `pending ${when}`)
  assert.equal(await executable(join(t.twin, UNAME)), false, `script not executable in the working twin ${when}`)
  assert.equal(await executable(join(t.twin, MOTD)), true, `motd executable in the working twin ${when}`)
}

describe('a person\'s chmod committed in the twin (made here or pulled), then adopt and snapshots', function () {
  this.timeout(120_000)

  it('a chmod-only commit of theirs, then adopt of another item, then a snapshot with drift and one without: both bits still planned and pending', async () => {
    const t = await smallTwin('twinsync-chmodask-adopt-', { files: WITH_SCRIPTS })
    try {
      personsChmodCommit(t.twin)
      await asksHeld(t, 'after the commit')
      writeFileSync(join(t.root, 'etc/os-release'), 'ID=debian\n')
      await (await t.container()).resolve(ReconcileService).adopt(['files:replace:/etc/os-release'])
      assert.equal(git(t.twin, ['show', 'HEAD:filesystem/etc/os-release']), 'ID=debian\n', 'adopted')
      await asksHeld(t, 'after the adopt')
      writeFileSync(join(t.root, 'etc/hostname'), 'renamed\n')
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      assert.equal(git(t.twin, ['show', 'HEAD:filesystem/etc/hostname']), 'renamed\n', 'snapshot recorded the machine')
      await asksHeld(t, 'after a snapshot with drift')
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      await asksHeld(t, 'after a snapshot with nothing to record')
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('a chmod-only commit of theirs, then a snapshot (no adopt): both bits still planned and pending', async () => {
    const t = await smallTwin('twinsync-chmodask-snap-', { files: WITH_SCRIPTS })
    try {
      personsChmodCommit(t.twin)
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      await asksHeld(t, 'after a snapshot with nothing to record')
      writeFileSync(join(t.root, 'etc/hostname'), 'renamed\n')
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      await asksHeld(t, 'after a snapshot with drift')
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('a chmod -x commit of theirs, then the machine\'s edit of that same script adopted (files:replace, then all of files): the script\'s new content recorded 100755, the chmod -x still planned and pending', async () => {
    const t = await smallTwin('twinsync-chmodask-same-', { files: WITH_SCRIPTS })
    try {
      git(t.twin, ['update-index', '--chmod=-x', UNAME])
      git(t.twin, ['commit', '--quiet', '-m', 'script off'])
      git(t.twin, ['checkout', '--quiet', '--', UNAME])
      const asked = [['files:chmod:/etc/update-motd.d/10-uname', 'low', '0644']]
      for (const [text, selector] of [['#!/bin/sh\nuname -a\n', 'files:replace:/etc/update-motd.d/10-uname'], ['#!/bin/sh\nuname -r\n', 'files']] as const) {
        writeFileSync(join(t.root, 'etc/update-motd.d/10-uname'), text)
        await (await t.container()).resolve(ReconcileService).adopt([selector])
        assert.equal(git(t.twin, ['show', `HEAD:${UNAME}`]), text, `${selector} adopted`)
        assert.equal(git(t.twin, ['ls-tree', 'HEAD', UNAME]).split(' ')[0], '100755', 'the adopt records the machine\'s bit')
        assert.equal(await executable(join(t.twin, UNAME)), false, `kept in the working twin after ${selector}`)
        assert.deepEqual(modes(await (await t.container()).resolve(PlanWorkflow).plan({})), asked, `planned after ${selector}`)
        assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items.map((i) => i.id), asked.map(([id]) => id), `pending after ${selector}`)
      }
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })

  it('such a commit pulled from a mirror, then adopt of another item and a snapshot: both bits still planned and pending', async () => {
    const t = await smallTwin('twinsync-chmodask-pull-', { files: WITH_SCRIPTS })
    try {
      await pulled(t, [(clone) => personsChmodCommit(clone)])
      await asksHeld(t, 'after the pull')
      writeFileSync(join(t.root, 'etc/os-release'), 'ID=debian\n')
      await (await t.container()).resolve(ReconcileService).adopt(['files:replace:/etc/os-release'])
      await asksHeld(t, 'after the adopt')
      writeFileSync(join(t.root, 'etc/hostname'), 'renamed\n')
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      await asksHeld(t, 'after a snapshot with drift')
      await (await t.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      await asksHeld(t, 'after a snapshot with nothing to record')
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })
})
