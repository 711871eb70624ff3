// A person's chmod committed in the twin (session 44): `git commit` of a chmod -x or +x alone, so
// the twin's HEAD is a commit of theirs, not a snapshot (refs/twinsync/observed stays the last
// snapshot). The ask must outlive an adopt of another item, a snapshot, and, pulled from a
// mirror, a snapshot: each takes a new "last snapshot", and a bit judged against the wrong one
// would be dropped without a word. A guard: these pass on the code before them (0d894279); the
// asks hold because a snapshot or adopt sets the twin aside (refs/twinsync/intended) against
// refs/twinsync/observed, never against HEAD. Reading the last snapshot as HEAD (observed())
// loses the asks right after the commit and after the pull.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { lstat, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Plan } from '@twinsync/sdk'
import { IntentService } from '../../core/src/intent/intent-service.js'
import { ReconcileService } from '../../core/src/intent/reconcile-service.js'
import { RemoteService } from '../../core/src/remote/remote-service.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { StatusWorkflow } from '../../core/src/services/drift-status.js'
import { SMALL_ETC, git, smallTwin, type SmallTwin } from '../support/in-process-twin.js'

const WITH_SCRIPTS = {
  ...SMALL_ETC,
  'etc/update-motd.d/10-uname': { text: '#!/bin/sh\nuname -snrvm\n', mode: 0o755 },
}
const UNAME = 'filesystem/etc/update-motd.d/10-uname'
const MOTD = 'filesystem/etc/motd'
const ASKS = [
  ['files:chmod:/etc/motd', 'high', '0755'],
  ['files:chmod:/etc/update-motd.d/10-uname', 'low', '0644'],
]

const modes = (plan: Plan) => plan.changes.map((c) => [c.id, c.risk, c.after?.split(' ')[1]])
const executable = async (path: string) => ((await lstat(path)).mode & 0o111) !== 0

/** A person's commit in `dir` of chmod -x of the script and chmod +x of /etc/motd, nothing else. */
function chmodCommit(dir: string): void {
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

describe('a person\'s chmod committed in the twin', function () {
  this.timeout(120_000)

  it('a chmod-only commit of theirs, then adopt of another item, then a snapshot with drift and one without: both bits still planned and pending', async () => {
    const t = await smallTwin('twinsync-chmodask-adopt-', { files: WITH_SCRIPTS })
    try {
      chmodCommit(t.twin)
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
      chmodCommit(t.twin)
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
      const mirror = join(t.dir, 'mirror.git')
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
      await (await t.container()).resolve(RemoteService).setGitRemote(mirror, undefined)
      git(t.twin, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
      const clone = join(t.dir, 'clone')
      execFileSync('git', ['clone', '--quiet', mirror, clone])
      chmodCommit(clone)
      git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
      assert.equal((await (await t.container()).resolve(RemoteService).pull()).status, 'fast-forwarded')
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
