import { strict as assert } from 'node:assert'
import { TwinSyncError } from '@twinsync/sdk'
import type { ApplyOutcome, ApplyRequest, RemotePort, TuiServices } from '../../src/tui/services.js'
import { change, fakeServices, KEYS, openPanel, planOf, type Panel } from './harness.js'

/** The status line is never stale, and Settings says what it says about the mirror (issue 23 item 5). */
describe('TUI status line: fresh after every action, one source with Settings', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())
  const mirror = (status: () => { summary: string; linked: boolean }): RemotePort => ({ status: async () => status() })
  // Short facts, so the whole status line fits the test terminal's 80 columns.
  const short = { location: () => ({ dir: '/t', source: 'default' as const }), lastSnapshot: async () => undefined }

  it('Settings and the status line agree that no mirror is linked, even with the mirror wired in', async () => {
    const services = fakeServices({ ...short, remote: mirror(() => ({ summary: 'GitHub: not linked', linked: false })) })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'settings' }])
    const frame = await panel.waitFor('GitHub: not linked: Enter to link')
    assert.doesNotMatch(frame, /GitHub mirror: linked/)
    assert.match(frame.split('\n').at(-2) ?? '', /GitHub: not linked/, 'the status line')
  })

  it('… and that one is linked when the status says so', async () => {
    const services = fakeServices({ ...short, remote: mirror(() => ({ summary: 'GitHub: me/t, up to date', linked: true })) })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'settings' }])
    const frame = await panel.waitFor('GitHub mirror: linked: Enter to link')
    assert.match(frame, /GitHub: me\/t, up to date/)
    // Where the twin is, as the Init screen promises Settings shows it.
    assert.match(frame, /^ {2}\/t {3}\(the default\)$/m)
  })

  it('is checked again when the plan shows changes while it says in sync', async () => {
    let checks = 0
    const services = fakeServices({
      // The first check ran before the twin moved (a pull, an edit in another terminal).
      drift: async () => (++checks === 1 ? { drift: false, changes: 0, pending: 0 } : { drift: false, changes: 0, pending: 3 }),
      plan: async () => planOf([change('apt:install:hello', 'packages', 'install'), change('apt:install:tree', 'packages', 'install'), change('files:replace:/etc/motd', 'files', 'replace')]),
    })
    panel = openPanel(services, [{ name: 'menu' }])
    await panel.waitFor('drift: none')
    await panel.burst(KEYS.down, KEYS.down, KEYS.enter)
    await panel.waitFor('Plan: 3 changes')
    const fresh = await panel.waitFor('pending: 3')
    assert.match(fresh, /drift: none · pending: 3/)
    assert.equal(checks, 2)
  })

  // Session 44: a pending item the last apply failed (its provider gave up: maybe half done) was one more "pending".
  it('says how many pending items the last apply failed, and whether they may be half done', async () => {
    for (const [d, said] of [
      [{ drift: false, changes: 0, pending: 3, failed: 2, halfDone: 1 }, 'pending: 3 (2 failed, 1 may be half done)'],
      [{ drift: false, changes: 0, pending: 2, failed: 1, halfDone: 1 }, 'pending: 2 (1 failed: may be half done)'],
      [{ drift: false, changes: 0, pending: 3, failed: 2, halfDone: 0 }, 'pending: 3 (2 failed)'],
    ] as const) {
      panel = openPanel(fakeServices({ ...short, drift: async () => d }), [{ name: 'menu' }])
      assert.match(await panel.waitFor(said), /drift: none · pending: /)
      panel.unmount()
      panel = undefined
    }
  })

  it('says what the mirror says after a snapshot pushed: no "1 to push" left', async () => {
    let pushed = false
    const services = fakeServices({
      ...short,
      remote: mirror(() => ({ summary: pushed ? 'GitHub: me/t, up to date' : 'GitHub: me/t, 1 to push', linked: true })),
      providers: async () => ({ providers: [], diagnostics: [] }),
      snapshot: async () => {
        pushed = true
        return {
          commit: 'c0ffee1234567890c0ffee1234567890c0ffee12',
          message: 'files: motd changed',
          skipped: undefined,
          head: 'c0ffee1234567890c0ffee1234567890c0ffee12',
          summary: {},
          providers: [],
          diagnostics: [],
          pending: [],
          repo: '/var/lib/twinsync/twin',
          initialized: false,
          push: { status: 'pushed', pushed: 2, url: 'https://example.invalid/me/twin-host' },
        }
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'snapshot' }])
    await panel.waitFor('1 to push')
    await panel.waitFor('Take a snapshot now?')
    await panel.press('y')
    await panel.waitFor('Snapshot c0ffee123456')
    const after = await panel.waitFor('up to date')
    assert.doesNotMatch(after, /1 to push/)
  })

  /**
   * One action of each kind, each against a machine whose drift, pending and push counts the
   * action moves: the status line must show the counts after it, not the ones before.
   */
  describe('every action checks drift, pending and the mirror again', () => {
    /** The machine and its mirror as the fakes see them; the status line reads them through drift() and status(). */
    const world = (start: { changes: number; pending: number; toPush: number }) => {
      const w = { ...start, checks: 0, linked: true }
      const services: Partial<TuiServices> = {
        ...short,
        drift: async () => (w.checks++, { drift: w.changes > 0, changes: w.changes, pending: w.pending }),
        remote: {
          status: async () => (w.linked ? { summary: `GitHub: me/t${w.toPush > 0 ? `, ${w.toPush} to push` : ''}`, linked: true, pendingPushes: w.toPush } : { summary: 'GitHub: not linked', linked: false }),
          pull: async () => ({ ok: true, message: 'the twin is up to date with its mirror' }),
        },
      }
      return { w, services }
    }
    const line = (p: Panel) => p.frame().split('\n').at(-2) ?? ''
    const waitLine = async (p: Panel, pattern: RegExp) => {
      for (let i = 0; i < 200 && !pattern.test(line(p)); i++) await new Promise((r) => setTimeout(r, 15))
      assert.match(line(p), pattern)
    }
    const applied = (request: ApplyRequest): ApplyOutcome => ({
      checkpoint: 'c'.repeat(40),
      commit: 'd'.repeat(40),
      journalPath: 'system/journal/apply-x.json',
      journal: { startedAt: '', endedAt: '', root: '/', planBasis: null, checkpoint: 'c'.repeat(40), interrupted: false, counts: { applied: request.plan.changes.length, unchanged: 0, failed: 0, skipped: 0 }, steps: [], diagnostics: [] },
      exitCode: 0,
      keptPending: [],
      push: { status: 'pushed', pushed: 2, url: 'https://example.invalid/me/t' },
    })
    const twoChanges = planOf([change('apt:install:hello', 'packages', 'install'), change('files:replace:/etc/motd', 'files', 'replace')])

    it('apply: drift, pending and the push count after it', async () => {
      const { w, services } = world({ changes: 1, pending: 1, toPush: 1 })
      services.plan = async () => twoChanges
      services.apply = async (request) => (Object.assign(w, { changes: 0, pending: 0, toPush: 0 }), applied(request))
      panel = openPanel(fakeServices(services), [{ name: 'menu' }, { name: 'plan' }])
      await waitLine(panel, /drift: 1 change · pending: 1 · GitHub: me\/t, 1 to push/)
      await panel.waitFor('Plan: 2 changes')
      await panel.press('a')
      await panel.waitFor('Apply these changes?')
      await panel.press('y')
      await panel.waitFor('2 applied')
      await waitLine(panel, /drift: none · pending: 0 · GitHub: me\/t$/)
    })

    it('revert: after the revert is applied', async () => {
      const { w, services } = world({ changes: 0, pending: 0, toPush: 0 })
      services.plan = async () => twoChanges
      services.apply = async (request) => (assert.equal(request.revertTo, 'b'.repeat(40)), Object.assign(w, { changes: 2, toPush: 1 }), applied(request))
      panel = openPanel(fakeServices(services), [{ name: 'menu' }, { name: 'plan', from: 'b'.repeat(40), revertTo: 'b'.repeat(40), title: 'Revert to bbbbbbbbbbbb' }])
      await waitLine(panel, /drift: none · pending: 0 · GitHub: me\/t$/)
      await panel.waitFor('Plan: 2 changes')
      await panel.press('a')
      await panel.waitFor('Apply these changes?')
      await panel.press('y')
      await panel.waitFor('2 applied')
      await waitLine(panel, /drift: 2 changes · pending: 0 · GitHub: me\/t, 1 to push/)
    })

    it('adopt and discard: after the decision, also one that fails', async () => {
      const { w, services } = world({ changes: 1, pending: 1, toPush: 0 })
      services.plan = async () => twoChanges
      services.decide = async (decision, items) => {
        if (decision === 'adopt') throw new TwinSyncError('ITEM_UNKNOWN', 'No drift item files', { nextStep: 'Run `twinsync status`.' })
        Object.assign(w, { pending: 0, toPush: 1 })
        return { decision, items: items.map((id) => ({ id, provider: 'files', category: 'files', summary: 'replace /etc/motd' })), commit: 'e'.repeat(40), observed: 'e'.repeat(40), intended: null, diagnostics: [] }
      }
      panel = openPanel(fakeServices(services), [{ name: 'menu' }, { name: 'plan' }])
      await waitLine(panel, /drift: 1 change · pending: 1 · GitHub: me\/t$/)
      await panel.waitFor('Plan: 2 changes')
      await panel.press(KEYS.enter)
      await panel.waitFor('❯ [x] replace /etc/motd')
      await panel.press('d')
      await panel.waitFor('Discarded the intent of replace /etc/motd')
      await waitLine(panel, /drift: 1 change · pending: 0 · GitHub: me\/t, 1 to push/)
      const before = w.checks
      w.changes = 0 // moved meanwhile (another terminal): a failed decision still rechecks
      await panel.press('k')
      await panel.waitFor('[ITEM_UNKNOWN]')
      await waitLine(panel, /drift: none/)
      assert.ok(w.checks > before)
    })

    it('pull & apply: after a pull that brought snapshots, the plan made', async () => {
      const { w, services } = world({ changes: 0, pending: 0, toPush: 0 })
      services.plan = async () => twoChanges
      services.remote = { ...services.remote!, pull: async () => (Object.assign(w, { pending: 2 }), { ok: true, message: 'pulled 2 snapshot(s) from the mirror' }) }
      panel = openPanel(fakeServices(services), [{ name: 'menu' }, { name: 'plan' }])
      await panel.waitFor('Mirror: pulled 2 snapshot(s)')
      await waitLine(panel, /drift: none · pending: 2/)
    })

    it('settings save: what is mirrored decides the drift', async () => {
      const { w, services } = world({ changes: 3, pending: 0, toPush: 0 })
      services.saveSettings = async () => ((w.changes = 1), { path: '/etc/twinsync/config.yaml' })
      panel = openPanel(fakeServices(services), [{ name: 'menu' }, { name: 'settings' }])
      await waitLine(panel, /drift: 3 changes/)
      await panel.press('r')
      await panel.press('s')
      await panel.waitFor('Saved /etc/twinsync/config.yaml')
      await waitLine(panel, /drift: 1 change ·/)
    })

    it('init: a created twin is checked at once', async () => {
      const { w, services } = world({ changes: 0, pending: 0, toPush: 0 })
      let created = false
      services.drift = async () => {
        w.checks++
        if (!created) throw new TwinSyncError('REPO_NOT_INITIALIZED', 'There is no twin at /t')
        return { drift: true, changes: 4, pending: 0 }
      }
      services.checkTwin = async () => (created ? { dir: '/t', source: 'default', ok: true } : { dir: '/t', source: 'default', ok: false, problem: { code: 'REPO_NOT_INITIALIZED', message: 'There is no twin at /t' } })
      services.initTwin = async () => ((created = true), { repo: '/t', created: true, commit: undefined })
      panel = openPanel(fakeServices(services), [{ name: 'menu' }, { name: 'init' }])
      await waitLine(panel, /drift: unknown/)
      await panel.press(KEYS.down)
      await panel.waitFor('❯ Create the twin at /t')
      await panel.press(KEYS.enter)
      await panel.waitFor('Created the twin at /t.')
      await waitLine(panel, /drift: 4 changes/)
    })

    it('GitHub link: the mirror and its push count after linking', async () => {
      const { w, services } = world({ changes: 0, pending: 0, toPush: 3 })
      w.linked = false
      services.remote = { ...services.remote!, link: async (repository) => ((w.linked = true), { ok: true, message: `Linked GitHub ${repository}; 3 snapshot(s) to push.` }) }
      panel = openPanel(fakeServices(services), [{ name: 'menu' }, { name: 'init' }, { name: 'github' }])
      await waitLine(panel, /GitHub: not linked$/)
      await panel.press(KEYS.down)
      await panel.press(KEYS.enter)
      await panel.burst(...'me/t')
      await panel.press(KEYS.enter)
      await panel.press(KEYS.down)
      await panel.press(KEYS.enter)
      await panel.waitFor('✓ Linked GitHub me/t')
      await waitLine(panel, /GitHub: me\/t, 3 to push$/)
    })
  })
})
