import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createElement } from 'react'
import { render } from 'ink-testing-library'
import { isTwinSyncError } from '@twinsync/sdk'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { commitTwin, json, useCliRoot } from '../support/cli.js'
import { App } from '../../core/src/tui/app.js'
import { busyMark, settleBusy } from '../../core/src/tui/busy.js'
import type { TuiServices } from '../../core/src/tui/services.js'
import { testContainer, tuiServices } from '../support/tui-services.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

// One rule in one place: the CLI and the TUI decide the same way. The TUI here is its real
// services (createTuiServices) over a real container, as the panel uses them; the CLI is the binary.

/**
 * Unmount the panel as leaving it does, and wait for what it started (its status line's drift check,
 * a screen's task: busy.ts), as runTui does before it exits: that work writes into the twin, and the
 * describe's `after` removes the twin (session 44: "Directory not empty" under load).
 */
async function closePanel(panel: { unmount(): void }, mark: number): Promise<void> {
  panel.unmount()
  await settleBusy(mark)
}

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work
  } catch (error) {
    if (isTwinSyncError(error)) return error.code
    throw error
  }
  return 'not refused'
}

/** The panel's status line once the drift check is done: NOT in sync, never "drift: none". */
async function assertStatusLineNotInSync(services: TuiServices): Promise<void> {
  const mark = busyMark()
  const panel = render(createElement(App, { services }))
  try {
    const deadline = Date.now() + 60_000
    let frame = ''
    while (Date.now() < deadline) {
      frame = panel.lastFrame() ?? ''
      if (!/drift: checking/.test(frame) && /drift|in sync/i.test(frame)) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.doesNotMatch(frame, /drift: none/, frame)
    assert.match(frame, /NOT in sync: 1 part/, frame)
  } finally {
    await closePanel(panel, mark)
  }
}

describe('a plan reviewed in the TUI is checked again before it runs, as a saved plan is', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  let services: TuiServices
  const signal = new AbortController().signal
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const live = (path: string) => root().live(path)

  before(async () => {
    services = await tuiServices(root())
  })

  it('the machine moved while the plan was on screen: refused as PLAN_STALE, like `apply FILE`; the live edit is kept', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/motd', 'Reviewed motd\n')
    const shown = await services.plan({ signal })
    assert.deepEqual(shown.changes.map((c) => c.id), ['files:replace:/etc/motd'])
    // The CLI's saved plan of the same moment, for the comparison.
    assert.equal((await twinsync('plan', '--out', join(root().cli.dir, 'plan.json'))).code, 0)
    // Someone edits the file on the machine while the person reads the diff.
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'Edited live meanwhile\n')

    const cliApply = await twinsync('apply', join(root().cli.dir, 'plan.json'), '--yes', '--accept-high-risk', '--json')
    assert.equal(cliApply.code, 2, cliApply.stdout)
    assert.equal(json<{ error: { code: string } }>(cliApply).error.code, 'PLAN_STALE')
    assert.equal(await refusal(services.apply({ plan: shown, leftOut: [], signal })), 'PLAN_STALE')
    assert.equal(await live('etc/motd'), 'Edited live meanwhile\n', 'the change the person did not see was not made')
  })

  // Session 16: both said "unchanged: already in place" (exit 0) for a change that was not in place.
  it('the twin stopped asking while the plan was on screen (discarded elsewhere): the change is not made, and both refuse the plan as PLAN_STALE', async () => {
    // Start again from a machine that matches the twin.
    assert.equal((await twinsync('discard', 'files')).code, 0)
    assert.equal((await twinsync('snapshot')).code, 0)
    await writeTwinFile(root().twinDir, 'filesystem/etc/issue.net', 'Asked for, then discarded\n')
    const before = await live('etc/issue.net')
    const shown = await services.plan({ signal })
    assert.deepEqual(shown.changes.map((c) => c.id), ['files:replace:/etc/issue.net'])
    assert.equal((await twinsync('plan', '--out', join(root().cli.dir, 'plan2.json'))).code, 0)
    // Another person drops the ask with the CLI before this one approves.
    assert.equal((await twinsync('discard', 'files:replace:/etc/issue.net')).code, 0)

    const cliApply = await twinsync('apply', join(root().cli.dir, 'plan2.json'), '--yes', '--accept-high-risk', '--json')
    assert.equal(cliApply.code, 2, cliApply.stdout + cliApply.stderr)
    assert.equal(json<{ error: { code: string } }>(cliApply).error.code, 'PLAN_STALE')
    assert.equal(await live('etc/issue.net'), before, 'the CLI does not make a discarded change')
    assert.equal(await refusal(services.apply({ plan: shown, leftOut: [], signal })), 'PLAN_STALE')
    assert.equal(await live('etc/issue.net'), before, 'nor does the TUI')
  })

  it('a step that fails in the TUI stays pending with its reason, as in the CLI (the same ApplyService)', async () => {
    await editTwinJson<{ packages: Record<string, unknown> }>(root().twinDir, 'system/packages/apt.json', (a) => {
      a.packages['twinsync-no-such-package'] = { architecture: 'amd64', hold: false, manual: true, version: '1.0' }
    })
    const shown = await services.plan({ signal })
    assert.deepEqual(shown.changes.map((c) => c.id), ['apt:install:twinsync-no-such-package'])
    const report = await services.apply({ plan: shown, leftOut: [], signal })
    assert.deepEqual(report.journal.steps.map((s) => s.status), ['failed'])
    assert.equal(report.exitCode, 1)
    assert.deepEqual((await services.plan({ signal })).changes.map((c) => c.id), ['apt:install:twinsync-no-such-package'], 'planned again')
    const status = json<{ pending: { items: Array<{ id: string; reason: string }> } }>(await twinsync('status', '--json'))
    assert.match(status.pending.items.find((i) => i.id === 'apt:install:twinsync-no-such-package')?.reason ?? '', /^failed in the apply of /)
  })
})

describe('a part of the twin no provider reads is never "in sync", in either front end', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)

  before(async () => {
    // A document of a plugin this TwinSync does not have (pulled from a machine that has it).
    await writeTwinFile(root().twinDir, 'system/flatpak/apps.json', '{"apps": {}}\n')
    await commitTwin(root().twinDir, 'flatpak apps from another machine')
    assert.equal((await twinsync('snapshot')).code, 0)
  })

  it('the CLI exits 1 naming it; the panel\'s status line says NOT in sync instead of "drift: none"', async () => {
    const text = await twinsync('status')
    assert.equal(text.code, 1, text.stderr)
    assert.match(text.stdout, /^NOT in sync: 1 part of the twin not compared\.\nMissing provider: /)
    assert.doesNotMatch(text.stdout, /In sync/)
    const status = await twinsync('status', '--json')
    assert.equal(status.code, 1, status.stderr)
    const s = json<{ drift: boolean; pending: { count: number }; missing: unknown[] }>(status)
    assert.deepEqual({ drift: s.drift, pending: s.pending.count, missing: s.missing.length }, { drift: false, pending: 0, missing: 1 })

    const services = await tuiServices(root())
    await assertStatusLineNotInSync(services)
  })

  it('its plan: neither front end says "No changes: the machine matches"; both say nothing can be planned until the error is fixed', async () => {
    const plan = await twinsync('plan')
    assert.equal(plan.code, 1, plan.stderr)
    assert.match(plan.stdout, /^No changes can be planned until the errors below are fixed\./)

    const services = await tuiServices(root())
    const mark = busyMark()
  const panel = render(createElement(App, { services, initial: [{ name: 'menu' }, { name: 'plan' }] }))
    try {
      const deadline = Date.now() + 60_000
      let frame = ''
      while (Date.now() < deadline) {
        frame = panel.lastFrame() ?? ''
        if (/No changes|PROVIDER_MISSING/.test(frame)) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.doesNotMatch(frame, /No changes: the machine/, frame)
      assert.match(frame, /No changes can be planned until the errors below are fixed\./, frame)
    } finally {
      await closePanel(panel, mark)
    }
  })
})

describe('a snapshot with a provider that failed to collect says so in both front ends', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)

  before(async () => {
    // The os provider cannot read /etc/debian_version (a folder now): its collect fails, the others' works.
    await runOk(['rm', join(root().rootfs.dir, 'etc/debian_version')])
    await runOk(['mkdir', join(root().rootfs.dir, 'etc/debian_version')])
  })

  it('with nothing else changed, neither says "Nothing changed"; both name os as not collected', async () => {
    // The files provider records the new folder; os is not collected.
    const first = await twinsync('snapshot')
    assert.equal(first.code, 1, first.stdout + first.stderr)
    assert.match(first.stdout, /^ {2}os: NOT collected; the twin keeps their state from the last snapshot/m)
    const r = await twinsync('snapshot')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /^No snapshot made: what was collected is unchanged since [0-9a-f]{12}, but os failed to collect\./)

    const services = await tuiServices(root())
    const mark = busyMark()
  const panel = render(createElement(App, { services, initial: [{ name: 'menu' }, { name: 'snapshot' }] }))
    try {
      const waitFor = async (pattern: RegExp) => {
        const deadline = Date.now() + 60_000
        for (;;) {
          const frame = panel.lastFrame() ?? ''
          if (pattern.test(frame)) return frame
          if (Date.now() > deadline) throw new Error(`${String(pattern)} did not appear:\n${frame}`)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      await waitFor(/Take a snapshot now\?/)
      // A moment for the question to take keys (its input hook is set after it is drawn).
      await new Promise((resolve) => setTimeout(resolve, 200))
      panel.stdin.write('y')
      const frame = await waitFor(/no snapshot made|Snapshot [0-9a-f]{12}/i)
      assert.doesNotMatch(frame, /Nothing changed since the last snapshot/, frame)
      assert.match(frame, /No snapshot made: what was collected is unchanged since [0-9a-f]{12}, but os failed to collect\./, frame)
      assert.match(frame, /os: NOT collected/, frame)
    } finally {
      await closePanel(panel, mark)
    }
  })

  it('status: a provider that fails to read is "NOT in sync" in both, as plan refuses and snapshot says NOT collected', async () => {
    // cron cannot read /etc/crontab (a folder now): a state provider, which status compares.
    await runOk(['rm', join(root().rootfs.dir, 'etc/crontab')])
    await runOk(['mkdir', join(root().rootfs.dir, 'etc/crontab')])
    assert.equal((await twinsync('snapshot')).code, 1)
    const plan = await twinsync('plan')
    assert.equal(plan.code, 1, plan.stdout)
    const text = await twinsync('status')
    assert.equal(text.code, 1, text.stdout + text.stderr)
    assert.match(text.stdout, /^NOT in sync: 1 part of the twin not compared\.\nNot compared: The cron provider failed in collect\(\)/)
    assert.doesNotMatch(text.stdout, /In sync/)

    const services = await tuiServices(root())
    const counts = await services.drift(new AbortController().signal)
    assert.equal(counts.missing, 1)
    await assertStatusLineNotInSync(services)
  })
})

describe('"Push snapshot" with no twin yet: the TUI refuses as `twinsync push` does, and creates one only when told', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({ init: false })

  it('REPO_NOT_INITIALIZED from both, nothing created; with init (the question said so) the twin is made, with the CLI\'s words', async () => {
    const { twinsync, twinDir } = root()
    const push = await twinsync('push', '--json')
    assert.equal(push.code, 2, push.stdout)
    assert.equal(json<{ error: { code: string } }>(push).error.code, 'REPO_NOT_INITIALIZED')
    const services = await tuiServices(root())
    const signal = new AbortController().signal
    assert.equal(await refusal(services.snapshot({ signal, onProgress: () => undefined })), 'REPO_NOT_INITIALIZED')
    assert.equal(existsSync(twinDir), false, 'no twin was created')

    const made = await services.snapshot({ signal, onProgress: () => undefined, init: true })
    assert.equal(made.initialized, true)
    assert.ok(made.commit)
    assert.equal(existsSync(join(twinDir, 'twin.json')), true)
  })
})

describe('a twin made by `init` and never snapshotted is never "in sync" and plans nothing "matching", in either front end', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({ init: false })

  it('status exits 1 with NOT in sync and TWIN_EMPTY; plan says nothing to plan; after the first snapshot it is in sync', async () => {
    const { twinsync } = root()
    assert.equal((await twinsync('init')).code, 0)
    const text = await twinsync('status')
    assert.equal(text.code, 1, text.stdout + text.stderr)
    assert.match(text.stdout, /^NOT in sync: 1 part of the twin not compared\.\nNot compared: The twin at [0-9a-f]{12} holds nothing of this machine: nothing was compared/)
    const s = json<{ unread: Array<{ code: string }> }>(await twinsync('status', '--json'))
    assert.deepEqual(s.unread.map((d) => d.code), ['TWIN_EMPTY'])
    const plan = await twinsync('plan')
    assert.match(plan.stdout, /^Nothing to plan: twin [0-9a-f]{12} holds nothing of the machine \(.*\) yet; nothing was compared/)
    assert.doesNotMatch(plan.stdout, /No changes: the machine/)
    await assertStatusLineNotInSync(await tuiServices(root()))

    assert.equal((await twinsync('snapshot')).code, 0)
    const after = await twinsync('status')
    assert.equal(after.code, 0, after.stdout)
    assert.match(after.stdout, /^In sync: /)
  })
})
