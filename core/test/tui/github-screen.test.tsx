import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { TwinSyncError } from '@twinsync/sdk'
import { GitHubApi } from '../../src/remote/github-api.js'
import { Tokens, registerValue } from '../../src/tokens.js'
import { createTuiServices, type RemotePort } from '../../src/tui/services.js'
import { unitRig } from '../support/unit-container.js'
import { fakeServices, KEYS, openPanel, type Panel } from './harness.js'

describe('TUI GitHub linking', function () {
  this.timeout(20_000)
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())

  const type = async (p: Panel, text: string) => {
    for (const ch of text) await p.press(ch)
  }

  /** With the token typed: Enter ends it, `repository` goes in the next field, then the link is chosen. */
  const linkTo = async (p: Panel, repository: string) => {
    await p.press(KEYS.enter)
    await p.press(KEYS.down)
    await p.press(KEYS.enter)
    await type(p, repository)
    await p.press(KEYS.enter)
    await p.press(KEYS.down)
    await p.press(KEYS.enter)
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
    await linkTo(panel, 'acme/web1-twin')
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

  // Session 40 (one rule in one place): a token with a space was refused only by the CLI's
  // reading of standard input (TOKEN_MISSING); the panel sent it to GitHub and said REMOTE_AUTH.
  it('a pasted token with a space in it is refused as `--token-stdin` refuses it (TOKEN_MISSING), over the real services: nothing sent, nothing kept', async () => {
    const rig = await unitRig([])
    const env = { ...process.env }
    try {
      process.env.TWINSYNC_CREDENTIALS = join(rig.dir, 'credentials')
      delete process.env.GITHUB_TOKEN
      delete process.env.GH_TOKEN
      await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'web1' })
      // GitHub, as the services reach it: every request recorded, every token refused.
      const sent: string[] = []
      const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
        sent.push(`${init?.method ?? 'GET'} ${String(input instanceof Request ? input.url : input)} ${new Headers(init?.headers).get('authorization') ?? ''}`)
        return Response.json({ message: 'Bad credentials' }, { status: 401 })
      }) as typeof globalThis.fetch
      const services = await createTuiServices(async () => {
        const c = rig.container.createChildContainer()
        registerValue(c, Tokens.GitHubApiFactory, (o) => new GitHubApi({ ...o, fetch }))
        return c
      }, { configPath: join(rig.dir, 'config.yaml') })
      panel = openPanel(services, [{ name: 'menu' }, { name: 'github' }])
      await panel.waitFor('TwinSync › GitHub linking')
      await panel.press(KEYS.enter)
      await type(panel, 'token ghp_pasted')
      await linkTo(panel, 'acme/web1-twin')
      const frame = await panel.waitFor(/error \[\w+\]/, 10_000)
      assert.match(frame, /error \[TOKEN_MISSING\]/, frame)
      assert.match(frame, /contains spaces/, frame)
      assert.deepEqual(sent, [], 'the token was sent nowhere')
      // Create: the same rule.
      await panel.press(KEYS.down)
      await panel.press(KEYS.enter)
      // Its answer replaces the link's (the same words): a moment for it to come.
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.match(await panel.waitFor(/contains spaces/, 10_000), /error \[TOKEN_MISSING\]/)
      assert.deepEqual(sent, [])
      assert.equal(existsSync(join(rig.dir, 'credentials')), false, 'and kept nowhere')
    } finally {
      process.env = env
      await rig.cleanup()
    }
  })
})
