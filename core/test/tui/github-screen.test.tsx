import { strict as assert } from 'node:assert'
import { TwinSyncError } from '@twinsync/sdk'
import type { RemotePort } from '../../src/tui/services.js'
import { fakeServices, KEYS, openPanel, type Panel } from './harness.js'

describe('TUI GitHub linking', function () {
  this.timeout(20_000)
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())

  const type = async (p: Panel, text: string) => {
    for (const ch of text) await p.press(ch)
  }

  function remoteRecording(overrides: Partial<RemotePort> = {}) {
    const calls: string[] = []
    const remote: RemotePort = {
      status: async () => ({ summary: 'GitHub: not linked', linked: false }),
      link: async (repository, token) => (calls.push(`link ${repository} ${token}`), { ok: true, message: `Linked GitHub ${repository}; 3 snapshot(s) to push.` }),
      create: async (name, token) => (calls.push(`create ${name} ${token}`), { ok: true, message: 'Created the private repository ann/twin-web1 and linked it.' }),
      test: async () => ({ ok: true, message: 'ok token; ok repository; ok push' }),
      ...overrides,
    }
    return { remote, calls }
  }

  it('takes a masked token and a repository, and links it', async () => {
    const { remote, calls } = remoteRecording()
    panel = openPanel(fakeServices({ remote }), [{ name: 'menu' }, { name: 'init' }, { name: 'github' }])
    await panel.waitFor('TwinSync › GitHub linking')
    await panel.press(KEYS.enter)
    await type(panel, 'ghp_secret123')
    // press() gives React 30 ms to draw a key; a loaded machine may take longer for the last one.
    const editing = await panel.waitFor(/Token: •{13}/)
    assert.doesNotMatch(editing, /ghp_secret123/, 'the token is never shown')
    assert.ok(panel.frames().every((f) => !f.includes('ghp')), 'no frame showed the token, not even while it was typed')
    await panel.press(KEYS.enter)
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    await type(panel, 'acme/web1-twin')
    await panel.press(KEYS.enter)
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    await panel.waitFor('✓ Linked GitHub acme/web1-twin; 3 snapshot(s) to push.')
    assert.deepEqual(calls, ['link acme/web1-twin ghp_secret123'])
    assert.doesNotMatch(panel.frame(), /ghp_secret123/)
  })

  it('keeps every character typed just before Enter in the same tick', async () => {
    const { remote, calls } = remoteRecording()
    panel = openPanel(fakeServices({ remote }), [{ name: 'menu' }, { name: 'init' }, { name: 'github' }])
    await panel.waitFor('TwinSync › GitHub linking')
    await panel.press(KEYS.enter)
    await panel.burst(...'ghp_fast', KEYS.enter)
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    await panel.burst(...'acme/fast', KEYS.enter)
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    await panel.waitFor('✓ Linked GitHub acme/fast')
    assert.deepEqual(calls, ['link acme/fast ghp_fast'])
  })

  it('creates a private repository with the default name and no typed token, and shows refusals with their next step', async () => {
    const { remote, calls } = remoteRecording({
      test: async () => {
        throw new TwinSyncError('REMOTE_PUBLIC', 'acme/open is a public repository', { nextStep: 'Make acme/open private on GitHub.' })
      },
    })
    panel = openPanel(fakeServices({ remote }), [{ name: 'menu' }, { name: 'github' }])
    await panel.waitFor('TwinSync › GitHub linking')
    for (let i = 0; i < 3; i++) await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    await panel.waitFor('✓ Created the private repository ann/twin-web1 and linked it.')
    assert.deepEqual(calls, ['create undefined undefined'])
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    const frame = await panel.waitFor('[REMOTE_PUBLIC]')
    assert.match(frame, /Make acme\/open private on GitHub\./)
  })
})
