import { strict as assert } from 'node:assert'
import { fakeServices, KEYS, openPanel, type Panel } from './harness.js'

describe('TUI init / GitHub linking', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())

  it('shows the twin location, why it cannot be opened, and creates it', async () => {
    let created = false
    const services = fakeServices({
      checkTwin: async () =>
        created
          ? { dir: '/var/lib/twinsync/twin', source: 'default', ok: true }
          : { dir: '/var/lib/twinsync/twin', source: 'default', ok: false, problem: { code: 'REPO_NOT_INITIALIZED', message: 'There is no twin at /var/lib/twinsync/twin yet', nextStep: 'Run `twinsync init`.' } },
      initTwin: async () => ((created = true), { repo: '/var/lib/twinsync/twin', created: true, commit: undefined }),
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'init' }])
    const frame = await panel.waitFor('[REPO_NOT_INITIALIZED]')
    assert.match(frame, /Twin repository: \/var\/lib\/twinsync\/twin/)
    assert.match(frame, /Next step: Run `twinsync init`\./)
    assert.match(frame, /GitHub: not linked/)
    await panel.press(KEYS.down)
    await panel.waitFor('❯ Create the twin at /var/lib/twinsync/twin')
    await panel.press(KEYS.enter)
    await panel.waitFor('Created the twin at /var/lib/twinsync/twin.')
    await panel.waitFor('✓ The twin is there and can be opened.')
    assert.equal(created, true)
  })

  it('says GitHub is not linked, and offers the first snapshot', async () => {
    panel = openPanel(fakeServices(), [{ name: 'menu' }, { name: 'init' }])
    await panel.waitFor('✓ The twin is there')
    await panel.press(KEYS.down)
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    await panel.waitFor('GitHub: not linked. Snapshots stay in the local twin')
    await panel.press(KEYS.up)
    await panel.press(KEYS.enter)
    await panel.waitFor('TwinSync › Push snapshot')
  })
})
