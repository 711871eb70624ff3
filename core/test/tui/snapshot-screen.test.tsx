import { strict as assert } from 'node:assert'
import { TwinSyncError } from '@twinsync/sdk'
import type { ProviderListing } from '../../src/services/list-providers.js'
import type { TuiServices } from '../../src/tui/services.js'
import { fakeServices, KEYS, openPanel, sleep, type Panel } from './harness.js'

const provider = (name: string, category: string, detected: boolean): ProviderListing => ({
  name,
  version: '0.1.0',
  category,
  description: `${name} things`,
  source: 'builtin',
  disabled: false,
  applicable: category !== 'facts',
  detected,
  reason: detected ? null : 'not installed',
  claims: [],
  codes: {},
})

describe('TUI push snapshot', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())
  const providers = async () => ({ providers: [provider('files', 'files', true), provider('apt', 'packages', true), provider('dnf', 'packages', false)], diagnostics: [] })

  it('shows what will be collected, asks, shows progress per provider, then the commit id', async () => {
    let finish: () => void = () => undefined
    const calls: Array<Parameters<TuiServices['snapshot']>[0]> = []
    const services = fakeServices({
      providers,
      snapshot: async (options) => {
        calls.push(options)
        options.onProgress({ provider: 'files', phase: 'start' })
        options.onProgress({ provider: 'apt', phase: 'collected' })
        await new Promise<void>((r) => (finish = r))
        options.onProgress({ provider: 'files', phase: 'collected' })
        return {
          commit: 'c0ffee1234567890c0ffee1234567890c0ffee12',
          message: 'TwinSync snapshot 2026-11-23T12:00:00Z',
          skipped: undefined,
          head: 'c0ffee1234567890c0ffee1234567890c0ffee12',
          summary: { files: { added: 3, changed: 1, removed: 0, paths: [] } },
          providers: [],
          diagnostics: [],
          pending: [],
          repo: '/var/lib/twinsync/twin',
          initialized: false,
        }
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'snapshot' }])
    const review = await panel.waitFor('Take a snapshot now?')
    assert.match(review, /✓ files\s+files/)
    assert.match(review, /· dnf\s+packages\s+not present: not installed/)
    assert.match(review, /←→ choose/)
    assert.equal(calls.length, 0, 'nothing is collected before the answer')
    await panel.press('y')
    const progress = await panel.waitFor('files      collecting…')
    assert.match(progress, /apt\s+collected/)
    assert.match(progress, /Esc cancel/)
    finish()
    const done = await panel.waitFor('Snapshot c0ffee123456')
    assert.match(done, /files\s+3 added, 1 changed/)
    assert.match(done, /GitHub not linked; the snapshot is local only/)
    await panel.press(KEYS.enter)
    await panel.waitFor('Main menu')
  })

  it('shows how the push after the snapshot went, as the service reports it', async () => {
    const services = fakeServices({
      providers,
      snapshot: async () => ({
        commit: undefined,
        message: '',
        skipped: 'unchanged',
        head: 'c0ffee1234567890c0ffee1234567890c0ffee12',
        summary: {},
        providers: [],
        diagnostics: [],
        pending: [],
        repo: '/var/lib/twinsync/twin',
        initialized: false,
        push: { status: 'pushed', pushed: 2, url: '/srv/mirror.git' },
      }),
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'snapshot' }])
    await panel.waitFor('Take a snapshot now?')
    await panel.press('y')
    const done = await panel.waitFor('Push: Pushed 2 snapshot(s) to /srv/mirror.git.')
    assert.match(done, /Nothing changed since the last snapshot/)
  })

  it('no twin yet: the question says it will be created there, and only that yes creates it (init); with a twin, never', async () => {
    const calls: Array<Parameters<TuiServices['snapshot']>[0]> = []
    const snapshot: TuiServices['snapshot'] = async (options) => (calls.push(options), Promise.reject(new Error('stop here')))
    const missing = async () => ({ dir: '/srv/twin', source: 'default' as const, ok: false, problem: { code: 'REPO_NOT_INITIALIZED', message: 'There is no twin at /srv/twin' } })
    panel = openPanel(fakeServices({ providers, snapshot, checkTwin: missing }), [{ name: 'menu' }, { name: 'snapshot' }])
    const review = await panel.waitFor('There is no twin at /srv/twin yet. Create the twin there and take its first snapshot?')
    assert.doesNotMatch(review, /Take a snapshot now\?/)
    await panel.press('y')
    await panel.waitFor('The snapshot failed')
    assert.equal(calls[0]?.init, true)
    panel.unmount()

    panel = openPanel(fakeServices({ providers, snapshot }), [{ name: 'menu' }, { name: 'snapshot' }])
    await panel.waitFor('Take a snapshot now?')
    await panel.press('y')
    await panel.waitFor('The snapshot failed')
    assert.equal(calls[1]?.init ?? false, false, 'a twin that is there is never created again, and one that vanished meanwhile is refused as `twinsync push` refuses')
  })

  it('a twin that is there and cannot be used: its code and next step, no question, Enter goes back without collecting', async () => {
    // Session 17: the screen asked "Take a snapshot now?" and the refusal came only after yes.
    let called = false
    const unfinished = async () => ({ dir: '/srv/twin', source: 'default' as const, ok: false, problem: { code: 'FORGET_UNFINISHED', message: 'A `twinsync forget` in /srv/twin was interrupted before it finished', nextStep: 'Run `twinsync forget` again (no arguments needed) to finish it.' } })
    panel = openPanel(fakeServices({ providers, snapshot: async () => ((called = true), Promise.reject(new Error('no'))), checkTwin: unfinished }), [{ name: 'menu' }, { name: 'snapshot' }])
    const frame = await panel.waitFor('[FORGET_UNFINISHED]')
    assert.match(frame, /The twin cannot be used/)
    assert.match(frame, /Run `twinsync forget` again/)
    assert.doesNotMatch(frame, /Take a snapshot now\?/)
    await panel.press(KEYS.enter)
    await panel.waitFor('Main menu')
    assert.equal(called, false)
  })

  it('Yes and Enter in the same tick take the snapshot', async () => {
    let called = false
    panel = openPanel(fakeServices({ providers, snapshot: async () => ((called = true), Promise.reject(new Error('no'))) }), [{ name: 'menu' }, { name: 'snapshot' }])
    await panel.waitFor('Take a snapshot now?')
    await panel.burst(KEYS.left, KEYS.enter)
    await panel.waitFor('The snapshot failed')
    assert.equal(called, true)
  })

  it('No goes back without collecting', async () => {
    let called = false
    panel = openPanel(fakeServices({ providers, snapshot: async () => ((called = true), Promise.reject(new Error('no'))) }), [{ name: 'menu' }, { name: 'snapshot' }])
    await panel.waitFor('Take a snapshot now?')
    await panel.press(KEYS.enter) // the default answer is No
    await panel.waitFor('Main menu')
    assert.equal(called, false)
  })

  it('Esc cancels the collection through the AbortSignal', async () => {
    let signal: AbortSignal | undefined
    const services = fakeServices({
      providers,
      snapshot: (options) => {
        signal = options.signal
        return new Promise((_, reject) => options.signal.addEventListener('abort', () => reject(new TwinSyncError('ABORTED', 'cancelled'))))
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'snapshot' }])
    await panel.waitFor('Take a snapshot now?')
    await panel.press('y')
    await panel.waitFor('Collecting…')
    await panel.press(KEYS.escape)
    await panel.waitFor('Cancelled; no snapshot was made.')
    assert.equal(signal?.aborted, true)
  })

  it('shows an error with its code and next step, never a stack trace', async () => {
    const services = fakeServices({
      providers,
      snapshot: async () => {
        throw new TwinSyncError('LOCK_HELD', 'Another TwinSync run (pid 42) holds the twin lock', { nextStep: 'Wait for it to finish, or stop process 42.' })
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'snapshot' }])
    await panel.waitFor('Take a snapshot now?')
    await panel.press('y')
    const frame = await panel.waitFor('[LOCK_HELD]')
    assert.match(frame, /Next step: Wait for it to finish, or stop process 42\./)
    assert.doesNotMatch(frame, /\n\s+at /)
    await sleep(10)
  })
})

// Session 36: a raw ENOSPC from a service (a write no layer named) was "This is a bug in TwinSync"
// in the panel, and DISK_FULL in the CLI (its catch-all alone mapped it). One mapping for both
// fronts now (disk-error.ts userErrorOf); the real disk's case is in twin-disk-full-fronts.test.ts.
describe('TUI error box: a full disk', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())

  it('a snapshot that fails with a raw ENOSPC shows DISK_FULL with its next step, not a bug', async () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC', errno: -28, syscall: 'write', path: '/var/lib/twinsync/twin/.git/twinsync/ref-locks.json' })
    const providers = async () => ({ providers: [], diagnostics: [] })
    panel = openPanel(fakeServices({ providers, snapshot: async () => Promise.reject(enospc) }), [{ name: 'menu' }, { name: 'snapshot' }])
    await panel.waitFor('Take a snapshot now?')
    await panel.press('y')
    const failed = await panel.waitFor('The snapshot failed')
    assert.match(failed, /error \[DISK_FULL\]/)
    assert.match(failed, /A disk TwinSync writes to is full: ENOSPC: no space left on device, write/)
    assert.match(failed, /Next step: Free some space \(`df -h \/var\/lib\/twinsync\/twin\/\.git\/twinsync`\)/)
    assert.doesNotMatch(failed, /INTERNAL|bug in TwinSync/)
  })
})
