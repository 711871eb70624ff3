import { strict as assert } from 'node:assert'
import { MemoryTwin, TwinSyncError, type Change, type ChangeResult } from '@twinsync/sdk'
import { COMMANDS_LEDGER, readInstructions, type CommandChangeData } from '../../src/plan/plan-instructions.js'
import { uncheckedRunNotes } from '../../src/plan/unchecked-runs.js'
import type { RehearsalReport } from '../../src/rehearse/rehearsal-report.js'
import type { ApplyRequest, RehearseRequest, TuiServices } from '../../src/tui/services.js'
import { change, fakeServices, KEYS, openPanel, planOf, sleep, type Panel } from './harness.js'

const MOTD_DIFF = '--- a/etc/motd\n+++ b/etc/motd\n@@ -1 +1 @@\n-Debian\n+Managed by TwinSync\n'

const plan = planOf([
  change('files:replace:/etc/motd', 'files', 'replace', { summary: 'Replace /etc/motd', diff: MOTD_DIFF, risk: 'medium', before: 'file 0644 root:root 7 bytes', after: 'file 0644 root:root 20 bytes' }),
  change('systemd:daemon-reload', 'services', 'daemon-reload', { summary: 'Reload systemd units' }),
  change('systemd:enable:demo.service', 'services', 'enable', { summary: 'Enable demo.service', requires: ['systemd:daemon-reload'] }),
])

function applyingServices(requests: ApplyRequest[]): Partial<TuiServices> {
  return {
    plan: async () => plan,
    apply: async (request) => {
      requests.push(request)
      for (const c of request.plan.changes) {
        request.onStart?.(c)
        const result: ChangeResult = { id: c.id, status: 'applied' }
        request.onResult?.(c, result)
      }
      return {
        checkpoint: 'c'.repeat(40),
        commit: 'd'.repeat(40),
        journalPath: 'system/journal/apply-x.json',
        journal: {
          startedAt: '',
          endedAt: '',
          root: '/',
          planBasis: null,
          checkpoint: 'c'.repeat(40),
          interrupted: false,
          counts: { applied: request.plan.changes.length, unchanged: 0, failed: 0, skipped: 0 },
          steps: [],
          diagnostics: [],
        },
        exitCode: 0,
        keptPending: request.leftOut.length > 0 ? ['filesystem/etc/motd'] : [],
        push: { status: 'not-configured', pushed: 0, url: null },
      }
    },
  }
}

describe('TUI pull & apply', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())

  it('summarises by category, opens a category and a change with its diff', async () => {
    panel = openPanel(fakeServices({ plan: async () => plan }), [{ name: 'menu' }, { name: 'plan' }])
    const summary = await panel.waitFor('Plan: 3 changes')
    assert.match(summary, /files\s+1 \(1 replace\)/)
    assert.match(summary, /services\s+2 \(1 daemon-reload, 1 enable\)/)
    assert.match(summary, /GitHub not linked: planning against the local twin/)
    assert.match(summary, /Apply these changes… \(3 to apply\)/)
    await panel.press(KEYS.enter)
    await panel.waitFor('❯ [x] replace /etc/motd [medium risk]')
    await panel.press(KEYS.enter)
    const detail = await panel.waitFor('+Managed by TwinSync')
    assert.match(detail, /-Debian/)
    assert.match(detail, /before: file 0644 root:root 7 bytes/)
    assert.match(detail, /Space leave out/)
    await panel.press(KEYS.escape)
    await panel.waitFor('❯ [x] replace /etc/motd')
    await panel.press(KEYS.escape)
    await panel.waitFor('Plan: 3 changes')
    await panel.press(KEYS.escape)
    await panel.waitFor('Main menu')
  })

  it('leaves a change and its dependents out, says so, and applies the rest with live results', async () => {
    const requests: ApplyRequest[] = []
    panel = openPanel(fakeServices(applyingServices(requests)), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter) // services
    await panel.waitFor('❯ [x] reload systemd units')
    await panel.press(KEYS.space)
    const out = await panel.waitFor('[-] enable demo.service')
    assert.match(out, /\[ \] reload systemd units/)
    assert.match(out, /Left out: reload systemd units/)
    assert.match(out, /Also left out, because they need it or are only there for it: enable demo.service/)
    await panel.press('a')
    const confirm = await panel.waitFor('Apply these changes?')
    assert.match(confirm, /1 change will be applied; 2 left out/)
    assert.match(confirm, /Yes\s+No/)
    await panel.press(KEYS.left) // to Yes
    await panel.press(KEYS.enter)
    const done = await panel.waitFor('1 applied, 0 unchanged, 0 failed, 0 skipped')
    assert.match(done, /✓ applied\s+replace \/etc\/motd/)
    assert.match(done, /Checkpoint before: cccccccccccc/)
    assert.match(done, /Left out, still pending in the twin for the next plan: filesystem\/etc\/motd/)
    assert.equal(requests.length, 1)
    assert.deepEqual(requests[0]?.plan.changes.map((c) => c.id), ['files:replace:/etc/motd'])
    assert.deepEqual(requests[0]?.leftOut.map((c) => c.id).sort(), ['systemd:daemon-reload', 'systemd:enable:demo.service'])
    assert.equal(requests[0]?.revertTo, undefined)
    await panel.press(KEYS.enter)
    await panel.waitFor('Main menu')
  })

  it('leaving out the delete of a unit\'s file leaves out the stop and disable made for it (madeFor), and says so', async () => {
    const file = 'files:delete:/etc/systemd/system/web.service'
    const forDelete = { removal: true, madeFor: [file] }
    const unitPlan = planOf([
      change(file, 'files', 'delete', { summary: 'delete /etc/systemd/system/web.service', removal: true, requires: ['systemd:stop:web.service', 'systemd:disable:web.service'] }),
      change('files:replace:/etc/motd', 'files', 'replace', { summary: 'replace /etc/motd' }),
      change('systemd:stop:web.service', 'services', 'stop', { summary: 'stop web.service', ...forDelete }),
      change('systemd:disable:web.service', 'services', 'disable', { summary: 'disable web.service', ...forDelete }),
    ])
    const requests: ApplyRequest[] = []
    panel = openPanel(fakeServices({ ...applyingServices(requests), plan: async () => unitPlan }), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 4 changes')
    await panel.press(KEYS.enter) // files
    await panel.waitFor('❯ [x] delete /etc/systemd/system/web.service')
    await panel.press(KEYS.space)
    const out = await panel.waitFor('Also left out')
    assert.match(out, /Also left out, because they need it or are only there for it: stop web\.service; disable web\.service/)
    await panel.press('a')
    const confirm = await panel.waitFor('Apply these changes?')
    assert.match(confirm, /1 change will be applied; 3 left out/)
    await panel.press(KEYS.left)
    await panel.press(KEYS.enter)
    await panel.waitFor('1 applied, 0 unchanged, 0 failed, 0 skipped')
    assert.deepEqual(requests[0]?.plan.changes.map((c) => c.id), ['files:replace:/etc/motd'])
    assert.deepEqual(requests[0]?.leftOut.map((c) => c.id).sort(), [file, 'systemd:disable:web.service', 'systemd:stop:web.service'])
  })

  it('discards one change\'s intent with d and adopts a domain with k, through the services, then plans again', async () => {
    const calls: Array<[string, string[]]> = []
    let plans = 0
    const services = fakeServices({
      plan: async () => (plans++ === 0 ? plan : planOf(plan.changes.filter((c) => c.category !== 'files'))),
      decide: async (decision, items) => {
        calls.push([decision, items])
        // Session 44: an adopt says what it left out (a document outside its provider's part), as the CLI does.
        const strayWarning = { severity: 'warning' as const, code: 'PROVIDER_FAILED', provider: 'files', summary: "The files provider handed in a document outside its part of the twin: system/elsewhere.json (no provider's); it was not written" }
        return { decision, items: items.map((id) => ({ id, provider: 'files', category: 'files', summary: id === 'services' ? 'Enable demo.service' : 'Replace /etc/motd' })), commit: 'e'.repeat(40), observed: 'e'.repeat(40), intended: null, diagnostics: decision === 'adopt' ? [strayWarning] : [] }
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'plan' }])
    const summary = await panel.waitFor('Plan: 3 changes')
    assert.match(summary, /d discard\s+k keep machine/)
    await panel.press(KEYS.enter) // files
    await panel.waitFor('❯ [x] replace /etc/motd')
    await panel.press('d')
    await panel.waitFor('Discarded the intent of Replace /etc/motd (commit eeeeeeeeeeee)')
    await panel.waitFor('Plan: 2 changes')
    assert.deepEqual(calls, [['discard', ['files:replace:/etc/motd']]])
    await panel.press('k') // the services row is selected first now
    await panel.waitFor('Adopted the machine\'s value of Enable demo.service')
    await panel.waitFor('warning: files: The files provider handed in a document outside its part of the twin')
    assert.deepEqual(calls[1], ['adopt', ['services']])
  })

  it('a diverged mirror (REMOTE_DIVERGED): t takes the mirror\'s history through the pull\'s service (takeMirror), then plans; never without the key', async () => {
    const asked: Array<boolean | undefined> = []
    const remote = {
      status: async () => ({ summary: 'GitHub: me/t', linked: true }),
      pull: async (_signal: AbortSignal, options?: { takeMirror?: boolean }) => {
        asked.push(options?.takeMirror)
        if (options?.takeMirror !== true) {
          throw new TwinSyncError('REMOTE_DIVERGED', 'The twin and its mirror have both moved on: 1 snapshot(s) only here, 1 only on the mirror', { nextStep: 'Nothing was changed. Choose: take the mirror\'s history (`twinsync pull --take-mirror`: …)' })
        }
        return { ok: true, message: "Took the mirror's history: 1 snapshot(s) from the mirror, now at abc. This twin's own history is kept at refs/twinsync/diverged/20261202T143402Z" }
      },
    }
    panel = openPanel(fakeServices({ plan: async () => plan, remote }), [{ name: 'menu' }, { name: 'plan' }])
    const refused = await panel.waitFor('[REMOTE_DIVERGED]')
    assert.match(refused, /t take the mirror's history/)
    assert.deepEqual(asked, [undefined])
    await panel.press('t')
    await panel.waitFor('Plan: 3 changes')
    assert.match(panel.frame(), /Took the mirror's history/)
    assert.deepEqual(asked, [undefined, true])
  })

  it('shows why a change is still pending from an earlier apply', async () => {
    const pending = { ...plan, diagnostics: [{ severity: 'info' as const, code: 'PENDING_INTENT', summary: 'Replace /etc/motd: still pending, failed in the apply of 2026-11-23T12:00:00Z', provider: 'files' }] }
    panel = openPanel(fakeServices({ plan: async () => pending }), [{ name: 'menu' }, { name: 'plan' }])
    const summary = await panel.waitFor('Still pending from before:')
    assert.match(summary, /Replace \/etc\/motd: still pending, failed in the apply of 2026-11-23T12:00:00Z/)
  })

  it('answers what the question shows the moment Enter arrives: Yes then back to No, with Enter in the same tick, applies nothing', async () => {
    const requests: ApplyRequest[] = []
    panel = openPanel(fakeServices(applyingServices(requests)), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press('a')
    await panel.waitFor('Apply these changes?')
    await panel.press(KEYS.left) // Yes, drawn
    await panel.burst(KEYS.right, KEYS.enter) // back to No and Enter, before React draws again
    await sleep(100)
    assert.equal(requests.length, 0, 'No was chosen: nothing may be applied')
    assert.doesNotMatch(panel.frame(), /applied, \d+ unchanged/)
  })

  it('leaves out the change the cursor moved to when a move and Space arrive in one chunk', async () => {
    const requests: ApplyRequest[] = []
    panel = openPanel(fakeServices(applyingServices(requests)), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press(KEYS.down + KEYS.enter) // services, in one chunk
    await panel.waitFor('❯ [x] reload systemd units')
    await panel.press(KEYS.down + KEYS.space) // to the second change and leave it out, in one chunk
    const out = await panel.waitFor('[ ] enable demo.service')
    assert.match(out, /\[x\] reload systemd units/)
    assert.match(out, /Left out: enable demo.service/)
  })

  it('names from the twin with a terminal escape, a right-to-left override and a newline: spelled out on the screen, no raw control byte (terminal-text.ts)', async () => {
    const evil = 'x\x1b]0;pwned\x07\u202egnp.exe\nfake'
    const hostile = {
      ...planOf([change(`files:mkdir:/etc/${evil}`, 'files', 'mkdir', { summary: `Create folder /etc/${evil}` })]),
      diagnostics: [
        { severity: 'info' as const, code: 'PENDING_INTENT', summary: `Replace /etc/${evil}: still pending`, provider: 'files' },
        { severity: 'warning' as const, code: 'FILES_OUTSIDE_SCOPE', summary: `Create folder /root/${evil}: left out`, detail: `add /root/${evil} to files.include`, provider: 'files', change: `files:mkdir:/root/${evil}` },
      ],
    }
    panel = openPanel(fakeServices({ plan: async () => hostile }), [{ name: 'menu' }, { name: 'plan' }])
    const summary = await panel.waitFor('Still pending from before:')
    assert.doesNotMatch(summary, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u, JSON.stringify(summary))
    assert.match(summary, /Replace \/etc\/x\\e\]0;pwned\\x07\\u202egnp\.exe\\nfake: still pending/)
    assert.match(summary, /Create folder \/root\/x\\e\]0;pwned\\x07\\u202egnp\.exe\\nfake: left out/)
    await panel.press(KEYS.enter)
    const category = await panel.waitFor('create folder')
    assert.doesNotMatch(category, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u, JSON.stringify(category))
  })

  it('a plan with an error is refused at the question, with the code the service would throw', async () => {
    const requests: ApplyRequest[] = []
    const broken = { ...plan, diagnostics: [{ severity: 'error' as const, code: 'CONTENT_INVALID', summary: '/etc/cron.d/x: line 2: bad minute', provider: 'cron' }] }
    panel = openPanel(fakeServices({ ...applyingServices(requests), plan: async () => broken }), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press('a')
    const frame = await panel.waitFor('[CONTENT_INVALID]')
    assert.match(frame, /This plan cannot be applied/)
    assert.match(frame, /Nothing was applied: the plan has 1 error\(s\): cron: \/etc\/cron\.d\/x: line 2: bad minute/)
    assert.doesNotMatch(frame, /Yes\s+No/)
    await panel.press('y')
    await panel.press(KEYS.enter)
    await sleep(20)
    assert.equal(requests.length, 0)
  })

  it('shows what a provider said about a change beside it, and general notes below', async () => {
    const requests: ApplyRequest[] = []
    const base = applyingServices(requests)
    const services = fakeServices({
      ...base,
      apply: async (request) => {
        const report = await (base.apply as TuiServices['apply'])({ ...request, onResult: () => undefined })
        const warn = { severity: 'warning' as const, code: 'X', summary: 'kept a backup as /etc/motd~', detail: 'Remove /etc/motd~ when done.', provider: 'files', change: 'files:replace:/etc/motd' }
        for (const c of request.plan.changes) request.onResult?.(c, { id: c.id, status: 'applied', ...(c.id === warn.change ? { diagnostics: [warn] } : {}) })
        return {
          ...report,
          journal: {
            ...report.journal,
            steps: request.plan.changes.map((c) => ({ id: c.id, provider: c.provider, summary: c.summary, startedAt: '', endedAt: '', status: 'applied' as const, ...(c.id === warn.change ? { diagnostics: [warn] } : {}) })),
            diagnostics: [{ severity: 'warning' as const, code: 'Y', summary: 'daemon-reload was slow', provider: 'systemd' }],
          },
        }
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press('a')
    await panel.waitFor('Apply these changes?')
    await panel.press('y')
    const done = await panel.waitFor('3 applied, 0 unchanged')
    assert.match(done, /✓ applied\s+replace \/etc\/motd\n\s+warning: files: kept a backup as \/etc\/motd~ \[X\]\n\s+Next step: Remove \/etc\/motd~ when done\./)
    assert.match(done, /warning: systemd: daemon-reload was slow/)
  })

  it('shows a refused change with its checker\'s output', async () => {
    const requests: ApplyRequest[] = []
    const base = applyingServices(requests)
    const services = fakeServices({
      ...base,
      apply: async (request) => {
        const report = await (base.apply as TuiServices['apply'])({ ...request, onResult: () => undefined })
        for (const c of request.plan.changes) {
          request.onResult?.(
            c,
            c.id === 'files:replace:/etc/motd'
              ? { id: c.id, status: 'failed', message: '`motd-check` rejects the new motd configuration; the previous files are back', outputTail: 'line 1: fine\nline 2: no such word "Managed"' }
              : { id: c.id, status: 'applied' },
          )
        }
        return report
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press('a')
    await panel.waitFor('Apply these changes?')
    await panel.press('y')
    const done = await panel.waitFor('no such word')
    assert.match(done, /replace \/etc\/motd: `motd-check` rejects the new motd configuration[^\n]*\n\s+\| line 1: fine\n\s+\| line 2: no such word "Managed"/)
  })

  it('No at the question applies nothing', async () => {
    const requests: ApplyRequest[] = []
    panel = openPanel(fakeServices(applyingServices(requests)), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press('a')
    await panel.waitFor('Apply these changes?')
    await panel.press('n')
    await panel.waitFor('Plan: 3 changes')
    assert.equal(requests.length, 0)
  })

  it('Space in a change\'s details toggles it too', async () => {
    panel = openPanel(fakeServices({ plan: async () => plan }), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press(KEYS.enter)
    await panel.press(KEYS.enter)
    await panel.waitFor('(will be applied)')
    await panel.press(KEYS.space)
    await panel.waitFor('[ ] replace /etc/motd (left out)')
  })

  it('marks each step a run that is not root\'s cannot apply, and says the next step, from the plan\'s NEEDS_ROOT notes (session 20)', async () => {
    const next = 'Apply as root: `sudo twinsync apply --repo /home/ann/twin`.'
    const rooted = {
      ...plan,
      diagnostics: [
        { severity: 'info' as const, code: 'NEEDS_ROOT', summary: "Replace /etc/motd: needs root, /etc/motd is root's", change: 'files:replace:/etc/motd', path: '/etc/motd', detail: next },
      ],
    }
    panel = openPanel(fakeServices({ plan: async () => rooted }), [{ name: 'menu' }, { name: 'plan' }])
    const summary = await panel.waitFor('need')
    assert.match(summary.replace(/\s+/g, ' '), /1 of 3 changes needs root: .*sudo twinsync apply --repo \/home\/ann\/twin/)
    await panel.press(KEYS.enter)
    await panel.waitFor('replace /etc/motd [medium risk] [needs root]')
    await panel.press(KEYS.enter)
    await panel.waitFor("needs root: /etc/motd is root's")
  })

  it('shows progress while planning and Esc cancels it', async () => {
    let signal: AbortSignal | undefined
    panel = openPanel(
      fakeServices({
        plan: (options) => {
          signal = options.signal
          options.onProgress?.({ provider: 'apt', phase: 'start' })
          // Stops when cancelled, as the real plan does (ABORTED once its collects have ended).
          return new Promise((_, reject) => options.signal.addEventListener('abort', () => reject(new Error('aborted'))))
        },
      }),
      [{ name: 'menu' }, { name: 'plan' }],
    )
    await panel.waitFor(/apt\s+reading…/)
    await panel.press(KEYS.escape)
    await panel.waitFor('Main menu')
    assert.equal(signal?.aborted, true)
  })

  it('finishes an interrupted apply whose steps are all in place, as `twinsync apply` does, instead of "no changes"', async () => {
    const requests: ApplyRequest[] = []
    const finishing = {
      ...planOf([]),
      diagnostics: [{ severity: 'warning' as const, code: 'APPLY_INTERRUPTED', summary: 'An apply started 2026-11-23T12:00:00Z was interrupted (2 of 2 steps finished).' }],
    }
    panel = openPanel(fakeServices({ ...applyingServices(requests), plan: async () => finishing }), [{ name: 'menu' }, { name: 'plan' }])
    const screen = await panel.waitFor('Enter finishes it')
    assert.match(screen, /Enter finish the interrupted apply/)
    assert.equal(requests.length, 0)
    await panel.press(KEYS.enter)
    const done = await panel.waitFor('Snapshot after: dddddddddddd')
    assert.match(done, /Done\./)
    assert.equal(requests.length, 1)
    assert.equal(requests[0]?.plan.changes.length, 0)
    await panel.press(KEYS.enter)
    await panel.waitFor('Main menu')
  })

  it('applies a plan with nothing to change that settles configuration an earlier apply could not put back, as `twinsync apply` does', async () => {
    const requests: ApplyRequest[] = []
    const settling = {
      ...planOf([]),
      diagnostics: [{ severity: 'warning' as const, code: 'CONFIG_UNJUDGED', summary: 'Configuration an earlier apply wrote is not settled: nginx (/etc/nginx/nginx.conf: rejected by its checker, not all put back).' }],
    }
    panel = openPanel(fakeServices({ ...applyingServices(requests), plan: async () => settling }), [{ name: 'menu' }, { name: 'plan' }])
    const screen = await panel.waitFor('Enter settles it')
    assert.match(screen, /Enter settle it/)
    assert.doesNotMatch(screen, /interrupted apply/)
    await panel.press(KEYS.enter)
    await panel.waitFor('Snapshot after: dddddddddddd')
    assert.equal(requests.length, 1)
  })

  it('says so when there is nothing to do', async () => {
    panel = openPanel(fakeServices({ plan: async () => planOf([]) }), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('No changes: the machine (/) matches twin aaaaaaaaaaaa')
  })

  it('never reads a plan whose changes were all left out (outside their provider\'s scope) as "no changes": says they are left out, with each code and next step, as the CLI does', async () => {
    const leftOut = {
      ...planOf([]),
      diagnostics: [{ severity: 'warning' as const, code: 'FILES_OUTSIDE_SCOPE', provider: 'files', change: 'files:/root/evil-dir', summary: 'create /root/evil-dir is outside the files scope: left out', detail: 'Add /root to files.include in the config if you meant it.' }],
    }
    panel = openPanel(fakeServices({ plan: async () => leftOut }), [{ name: 'menu' }, { name: 'plan' }])
    const screen = await panel.waitFor('Next step: Add /root to files.include')
    assert.match(screen, /No changes planned: 1 change the twin asks for is left out/)
    assert.doesNotMatch(screen, /No changes: the machine/)
    assert.match(screen, /\[FILES_OUTSIDE_SCOPE\]/)
  })

  describe('a change left out (outside its provider\'s scope) is discarded on its own, as `twinsync discard ID` does', () => {
    const outside = (id: string, path: string) => ({
      severity: 'warning' as const,
      code: 'FILES_OUTSIDE_SCOPE',
      provider: 'files',
      change: id,
      summary: `create ${path} is outside the files scope: left out`,
      detail: 'Add /root to files.include in the config if you meant it.',
    })
    const recording = (calls: Array<[string, string[]]>, first: typeof plan, after: typeof plan) => {
      let plans = 0
      return fakeServices({
        plan: async () => (plans++ === 0 ? first : after),
        decide: async (decision, items) => {
          calls.push([decision, items])
          return { decision, items: items.map((id) => ({ id, provider: 'files', category: 'files', summary: `Create ${id.split(':')[2]}` })), commit: 'e'.repeat(40), observed: 'e'.repeat(40), intended: null, diagnostics: [] }
        },
      })
    }

    it('beside planned changes: its own row below the question, d discards that item, not its domain', async () => {
      const calls: Array<[string, string[]]> = []
      const first = { ...plan, diagnostics: [outside('files:create:/root/evil', '/root/evil')] }
      panel = openPanel(recording(calls, first, plan), [{ name: 'menu' }, { name: 'plan' }])
      await panel.waitFor('Plan: 3 changes')
      // files, services, "Apply these changes…", then the left-out item.
      for (let i = 0; i < 3; i++) await panel.press(KEYS.down)
      const screen = await panel.waitFor(/❯ .*create \/root\/evil is outside the files scope/)
      assert.match(screen, /d discard/)
      await panel.press('d')
      await panel.waitFor('Discarded the intent of Create /root/evil (commit eeeeeeeeeeee)')
      // Before, d on the files row discarded every pending file edit: the only way from the panel.
      assert.deepEqual(calls, [['discard', ['files:create:/root/evil']]])
      await panel.press('k') // nothing to keep from the machine for a left-out ask: no call
      await sleep(50)
      assert.equal(calls.length, 1)
    })

    it('when every change is left out: each is a row, d discards the one under the cursor', async () => {
      const calls: Array<[string, string[]]> = []
      const first = { ...planOf([]), diagnostics: [outside('files:mkdir:/root/a', '/root/a'), outside('files:mkdir:/root/b', '/root/b')] }
      const after = { ...planOf([]), diagnostics: [outside('files:mkdir:/root/a', '/root/a')] }
      panel = openPanel(recording(calls, first, after), [{ name: 'menu' }, { name: 'plan' }])
      await panel.waitFor(/No changes planned: 2 changes the twin asks for are left out/)
      await panel.press(KEYS.down)
      await panel.waitFor(/❯ .*create \/root\/b is outside/)
      await panel.press('d')
      await panel.waitFor('Discarded the intent of Create /root/b')
      await panel.waitFor(/No changes planned: 1 change the twin asks for is left out/)
      assert.deepEqual(calls, [['discard', ['files:mkdir:/root/b']]])
      await panel.press(KEYS.escape)
      await panel.waitFor('Main menu')
    })
  })

  it('shows what runs: every argument of a command and every line of a script, the description second', async () => {
    // Made by the real instruction reader, as a plan pulled from a mirror would be.
    const long = `echo ${'x'.repeat(120)} END-OF-LINE`
    const twin = new MemoryTwin([
      { path: 'plans/p.yaml', content: 'actions:\n  - run: [rm, -rf, "/var/tmp/some cache"]\n    description: Harmless cleanup\n  - script: s.sh\n    description: Tidy up\n' },
      { path: 'scripts/s.sh', content: `#!/bin/sh\necho tidy\r\x1b[2Krm -rf /srv/data\n${long}\n` },
    ])
    const commands = planOf(await readInstructions(twin))
    panel = openPanel(fakeServices({ plan: async () => commands }), [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 2 changes')
    await panel.press(KEYS.enter)
    const list = await panel.waitFor("❯ [x] run rm -rf '/var/tmp/some cache'")
    assert.doesNotMatch(list, /Harmless cleanup/, 'the list names the command, not its description')
    await panel.press(KEYS.enter)
    const run = await panel.waitFor('argument list (run without a shell):')
    assert.match(run, /\[0\] rm\n\s*\[1\] -rf\n\s*\[2\] '\/var\/tmp\/some cache'/)
    assert.match(run, /description: Harmless cleanup/)
    assert.ok(run.indexOf('[2]') < run.indexOf('description:'), 'the argument list comes first')
    await panel.press(KEYS.escape)
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    const script = await panel.waitFor('exactly as it runs:')
    assert.match(script, /\| echo tidy\\r\\e\[2Krm -rf \/srv\/data/, 'the carriage return and escape are spelled out, not obeyed')
    assert.match(script.replace(/\n↪ /g, ''), /END-OF-LINE/, 'a long line is wrapped, not cut off')
    assert.match(script, /description: Tidy up/)
    await panel.press(KEYS.escape)
    await panel.press('a')
    const confirm = await panel.waitFor('Apply these changes?')
    assert.match(confirm, /These run as root/)
    assert.match(confirm, /run rm -rf '\/var\/tmp\/some cache'/)
    assert.match(confirm, /script scripts\/s\.sh \(3 lines, sha256 [0-9a-f]{12}\)/)
  })

  // Session 47's review (F5): the planner's info note, shown as the CLI shows it (unchecked-runs.ts's lines).
  it('says of a run-once command only the committed record says ran (its secret unchecked here) what the CLI says, with its next step', async () => {
    const ask = { path: 'plans/db.yaml', content: 'actions:\n  - run: [env, "PGPASSWORD=Xq7weak", "true"]\n' }
    const [asked] = await readInstructions(new MemoryTwin([ask]))
    const twin = new MemoryTwin([ask, { path: COMMANDS_LEDGER, content: JSON.stringify({ [(asked?.data as CommandChangeData).key]: { source: ask.path } }) }])
    const unchecked: Change[] = []
    assert.deepEqual(await readInstructions(twin, twin, [], undefined, unchecked), [])
    const made = { ...planOf([]), diagnostics: await uncheckedRunNotes(unchecked) }
    panel = openPanel(fakeServices({ plan: async () => made }), [{ name: 'menu' }, { name: 'plan' }])
    const screen = (await panel.waitFor('note: run env')).replace(/\n/g, ' ')
    assert.match(screen, /note: run env PGPASSWORD=<redacted> true \(commands:plans\/db\.yaml#1\): not planned/)
    assert.match(screen, /Next step: If it changed and the command should run again, edit the action in plans\/db\.yaml/)
    assert.ok(!screen.includes('Xq7weak'))
  })
})

describe('TUI pull & apply: rehearse first', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())

  const report = (passed: boolean, changes: readonly { id: string; summary: string }[]): RehearsalReport => ({
    passed,
    root: '/',
    machine: 'twinsync-rehearsal-1-abcdef',
    network: 'none',
    changes: changes.map((c) => ({
      id: c.id,
      provider: 'files',
      summary: c.summary,
      verdict: passed ? 'passed' : 'failed',
      status: 'applied',
      evidence: passed ? ['applied'] : ['applied', 'nginx.service: systemctl restart nginx.service exited with 1', '  journal: nginx: [emerg] bind() to 0.0.0.0:25 failed (98: Address already in use)'],
    })),
    units: [],
    checks: [],
    failedUnits: { before: [], after: [], new: [] },
    diagnostics: [],
    limits: ['Hardware is not rehearsed: the container shares the kernel of this machine.'],
    timings: { bootMs: 500, applyMs: 300, checksMs: 700, teardownMs: 20, totalMs: 1600 },
    bootedAt: 0,
    bootState: 'running',
    cleanedUp: true,
  })

  it('offers "rehearse first" before the question; after a pass it asks again and applies the rehearsed plan', async () => {
    const requests: ApplyRequest[] = []
    const rehearsed: RehearseRequest[] = []
    const services = fakeServices({
      ...applyingServices(requests),
      rehearse: async (request) => {
        rehearsed.push(request)
        request.onStage?.('boot')
        await sleep(50)
        return report(true, request.plan.changes)
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press('a')
    const confirm = await panel.waitFor('r: rehearse first')
    assert.match(confirm, /Apply these changes\?/)
    await panel.press('r')
    const passed = await panel.waitFor('The rehearsal passed. Apply these changes to this machine?')
    assert.match(passed, /^Rehearsal PASSED: 3 of 3 changes passed\.$/m)
    assert.match(passed, /passed {2}Replace \/etc\/motd/)
    assert.match(passed, /Hardware is not rehearsed/)
    assert.equal(requests.length, 0, 'nothing applied before the answer')
    assert.deepEqual(rehearsed[0]?.plan.changes.map((c) => c.id), plan.changes.map((c) => c.id))
    await panel.press('y')
    await panel.waitFor('3 applied, 0 unchanged, 0 failed, 0 skipped')
    assert.equal(requests.length, 1)
    assert.equal(requests[0]?.plan, rehearsed[0]?.plan, 'the plan applied is the plan rehearsed')
  })

  it('after a failed rehearsal shows the evidence, refuses with the same rule as `apply --rehearse`, and cannot be applied', async () => {
    const requests: ApplyRequest[] = []
    const services = fakeServices({ ...applyingServices(requests), rehearse: async (request) => report(false, request.plan.changes) })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'plan' }])
    await panel.waitFor('Plan: 3 changes')
    await panel.press('a')
    await panel.waitFor('r: rehearse first')
    await panel.press('r')
    const failed = await panel.waitFor('Nothing was applied: Rehearsal FAILED')
    assert.match(failed, /^Rehearsal FAILED: 0 of 3 changes passed\.$/m, 'the verdict leads')
    assert.match(failed, /FAILED {2}Replace \/etc\/motd/)
    assert.match(failed, /journal: nginx: \[emerg\] bind\(\) to 0\.0\.0\.0:25 failed/)
    assert.match(failed, /Nothing was applied: Rehearsal FAILED/)
    assert.match(failed, /Next step: Fix what the rehearsal report shows in the twin/)
    assert.doesNotMatch(failed, /Apply these changes/)
    await panel.press('y')
    await panel.press(KEYS.enter)
    await sleep(100)
    assert.equal(requests.length, 0, 'a failed rehearsal is never followed by an apply')
    await panel.press(KEYS.escape)
    await panel.waitFor('Plan: 3 changes')
  })
})
