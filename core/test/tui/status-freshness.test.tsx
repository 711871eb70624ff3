import { strict as assert } from 'node:assert'
import type { RemotePort } from '../../src/tui/services.js'
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
})
