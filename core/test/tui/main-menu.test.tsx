import { strict as assert } from 'node:assert'
import { MENU } from '../../src/tui/main-menu.js'
import { fakeServices, KEYS, openPanel, type Panel } from './harness.js'

describe('TUI main menu', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())

  it('lists exactly the six flows, with key hints and the status line', async () => {
    let resolveDrift: (v: Awaited<ReturnType<ReturnType<typeof fakeServices>['drift']>>) => void = () => undefined
    const services = fakeServices({ drift: () => new Promise((r) => (resolveDrift = r)) })
    panel = openPanel(services)
    const frame = await panel.waitFor('drift: checking…')
    assert.deepEqual(
      MENU.map((m) => m.label),
      ['Init / GitHub linking', 'Push snapshot', 'Pull & apply changes', 'History & Time Machine', 'Settings (paths, ignore rules, GitHub)', 'Exit'],
    )
    for (const m of MENU) assert.ok(frame.includes(m.label), m.label)
    assert.match(frame, /Enter open/)
    assert.match(frame, /q exit/)
    assert.match(frame, /\/var\/lib\/twinsync\/twin/)
    assert.match(frame, /GitHub: not linked/)
    assert.match(await panel.waitFor('last 1234567'), /last 1234567/)
    resolveDrift({ drift: true, changes: 2, pending: 3 })
    assert.match(await panel.waitFor('drift: 2 changes'), /drift: 2 changes · pending: 3/)
  })

  it('moves with the arrows and opens a flow with Enter; Esc comes back', async () => {
    panel = openPanel(fakeServices({ history: async () => [] }))
    await panel.waitFor('❯ 1. Init')
    await panel.press(KEYS.down)
    await panel.press(KEYS.down)
    await panel.press(KEYS.down)
    await panel.waitFor('❯ 4. History & Time Machine')
    await panel.press(KEYS.enter)
    await panel.waitFor('No snapshots yet')
    assert.match(panel.frame(), /TwinSync › History & Time Machine/)
    await panel.press(KEYS.escape)
    await panel.waitFor('TwinSync › Main menu')
  })

  it('acts on the row the keys moved to when they arrive in one chunk (fast typing, a paste, a loaded machine)', async () => {
    panel = openPanel(fakeServices({ history: async () => [] }))
    await panel.waitFor('❯ 1. Init')
    await panel.press(KEYS.down + KEYS.down + KEYS.down + KEYS.enter)
    await panel.waitFor('No snapshots yet')
    assert.match(panel.frame(), /TwinSync › History & Time Machine/)
    await panel.press(KEYS.escape)
    await panel.waitFor('TwinSync › Main menu')
    await panel.press(KEYS.down + KEYS.down + KEYS.up + KEYS.enter)
    await panel.waitFor('TwinSync › Push snapshot')
  })
})
