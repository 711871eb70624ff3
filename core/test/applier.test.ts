import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApplicableProvider, Change, ChangeResult, ConfigCheck, ExecAnswer, Plan } from '@twinsync/sdk'
import { errorDiagnostic, LocalHost, NEED_UNUSABLE, PathClaims, RecordingHost, silentLogger } from '@twinsync/sdk'
import { Applier } from '../src/apply/applier.js'
import { container as rootContainer } from '../src/di.js'
import { setCallTimeouts } from '../src/providers/provider-call.js'
import { ProviderRegistry } from '../src/providers/provider-registry.js'
import { Tokens, registerValue } from '../src/tokens.js'
import { change } from './support/change.js'

/** A provider that records the changes of each apply call and answers with `status(change)`. */
function recordingProvider(name: string, status: (c: Change) => ChangeResult['status'] = () => 'applied') {
  const calls: string[][] = []
  const provider: ApplicableProvider = {
    name,
    version: '1.0.0',
    category: 'packages',
    description: name,
    twinPaths: [],
    detect: async () => ({ detected: true, diagnostics: [] }),
    collect: async () => ({ state: {}, documents: [], diagnostics: [] }),
    load: async () => ({ state: {}, diagnostics: [] }),
    diff: () => ({ changes: [], diagnostics: [] }),
    apply: async ({ changes }) => {
      calls.push(changes.map((c) => c.id))
      return { results: changes.map((c) => ({ id: c.id, status: status(c) })), diagnostics: [] }
    },
  }
  return { provider, calls }
}

function planOf(changes: Change[], edges: Array<[string, string]>): Plan {
  return {
    formatVersion: 1,
    createdAt: '2026-01-01T00:00:00Z',
    basis: { twinCommit: null, root: '/', fingerprints: {} },
    changes,
    edges: edges.map(([from, to]) => ({ from, to, reason: 'test requires it' })),
    diagnostics: [],
  } as Plan
}

/** The Applier over a child container: a fake registry and a dry-run host, nothing else. */
describe('Applier', () => {
  let root: string
  let host: RecordingHost
  /** What a recorded program (a checker) answers; success by default. */
  let exec: ExecAnswer | undefined
  const applierWith = (...providers: ApplicableProvider[]) => {
    const c = rootContainer.createChildContainer()
    host = new RecordingHost(new LocalHost(root), exec === undefined ? {} : { exec })
    registerValue(c, Tokens.Host, host)
    registerValue(c, Tokens.Config, { path: undefined, values: {} })
    registerValue(c, Tokens.Logger, silentLogger)
    registerValue(c, Tokens.TwinLocation, { dir: join(root, 'twin'), source: 'flag' })
    const registered = providers.map((provider) => ({ provider, source: 'test', disabled: false, codes: {} }))
    c.register(ProviderRegistry, { useValue: { load: async () => ({ providers: registered, claims: new PathClaims(), diagnostics: [] }), select: async () => registered } as unknown as ProviderRegistry })
    return c.resolve(Applier)
  }
  const run = (applier: Applier, plan: Plan) => applier.execute(plan, { signal: new AbortController().signal })

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-applier-'))
    exec = undefined
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  it('gives each provider its part of a wave in one call, wave after wave, in graph order', async () => {
    const apt = recordingProvider('apt')
    const systemd = recordingProvider('systemd')
    const plan = planOf(
      [change('apt:install:a', 'packages', 'install'), change('apt:install:b', 'packages', 'install'), change('systemd:enable:a.service', 'services', 'enable'), change('apt:hold:a', 'packages', 'hold')],
      [
        ['apt:install:a', 'systemd:enable:a.service'],
        ['systemd:enable:a.service', 'apt:hold:a'],
      ],
    )
    const { steps } = await run(applierWith(apt.provider, systemd.provider), plan)
    assert.deepEqual(apt.calls, [['apt:install:a', 'apt:install:b'], ['apt:hold:a']])
    assert.deepEqual(systemd.calls, [['systemd:enable:a.service']])
    assert.deepEqual(steps.map((s) => [s.id, s.status]), [
      ['apt:install:a', 'applied'],
      ['apt:install:b', 'applied'],
      ['systemd:enable:a.service', 'applied'],
      ['apt:hold:a', 'applied'],
    ])
  })

  it('skips what needs a change that failed, and goes on with the rest', async () => {
    const apt = recordingProvider('apt', (c) => (c.id === 'apt:install:a' ? 'failed' : 'applied'))
    const plan = planOf([change('apt:install:a', 'packages', 'install'), change('apt:hold:a', 'packages', 'hold'), change('apt:install:b', 'packages', 'install')], [['apt:install:a', 'apt:hold:a']])
    const { steps } = await run(applierWith(apt.provider), plan)
    assert.deepEqual(steps.map((s) => [s.id, s.status]), [
      ['apt:install:a', 'failed'],
      ['apt:hold:a', 'skipped'],
      ['apt:install:b', 'applied'],
    ])
    assert.match(steps[1]?.message ?? '', /apt:install:a did not succeed/)
    assert.deepEqual(apt.calls, [['apt:install:a', 'apt:install:b']])
  })

  it('over an order-only edge a failed change holds nothing back, a skipped one does; a declared edge holds back', async () => {
    const status = (c: Change) => (c.id === 'files:create:/etc/sudoers.d/x' || c.id === 'apt:install:a' ? 'failed' : 'applied')
    const apt = recordingProvider('apt', status)
    const files = recordingProvider('files', status)
    const systemd = recordingProvider('systemd', status)
    const plan = planOf(
      [
        change('apt:install:a', 'packages', 'install'),
        change('files:create:/etc/sudoers.d/x', 'files', 'create'),
        change('files:replace:/etc/a.conf', 'files', 'replace'),
        change('files:replace:/etc/nginx/nginx.conf', 'files', 'replace'),
        change('systemd:reload:nginx.service', 'services', 'reload'),
        change('systemd:reload:sudo-like.service', 'services', 'reload'),
        change('systemd:start:a.service', 'services', 'start'),
      ],
      [
        ['apt:install:a', 'files:replace:/etc/a.conf'],
        ['files:replace:/etc/nginx/nginx.conf', 'systemd:reload:nginx.service'],
        ['files:create:/etc/sudoers.d/x', 'systemd:reload:sudo-like.service'],
      ],
    )
    const orderOnly = (from: string, to: string) => ({ from, to, reason: 'files and startup entries before services', orderOnly: true as const })
    plan.edges.push(
      orderOnly('files:create:/etc/sudoers.d/x', 'systemd:reload:nginx.service'),
      orderOnly('files:create:/etc/sudoers.d/x', 'systemd:start:a.service'),
      orderOnly('files:replace:/etc/a.conf', 'systemd:start:a.service'),
    )
    const { steps } = await run(applierWith(apt.provider, files.provider, systemd.provider), plan)
    assert.deepEqual(
      steps.map((s) => [s.id, s.status, s.message ?? '']),
      [
        ['apt:install:a', 'failed', ''],
        ['files:create:/etc/sudoers.d/x', 'failed', ''],
        ['files:replace:/etc/a.conf', 'skipped', 'skipped: apt:install:a did not succeed'],
        ['files:replace:/etc/nginx/nginx.conf', 'applied', ''],
        // Its own file written; the refused sudoers file only ordered it.
        ['systemd:reload:nginx.service', 'applied', ''],
        // Declared on the refused file.
        ['systemd:reload:sudo-like.service', 'skipped', 'skipped: files:create:/etc/sudoers.d/x did not succeed'],
        // Held back through a file that was itself held back.
        ['systemd:start:a.service', 'skipped', 'skipped: files:replace:/etc/a.conf did not succeed'],
      ],
    )
  })

  it('runs a command change as an argument list inside the target (recorded by the dry run)', async () => {
    const data = { kind: 'run', argv: ['touch', '/etc/marker'], phase: 'after', key: 'k', once: true, source: 'plans/x.yaml' }
    const { steps } = await run(applierWith(), planOf([change('commands:run:k', 'commands', 'run', { data })], []))
    assert.deepEqual(steps.map((s) => s.status), ['applied'])
    assert.deepEqual(host.actions, [{ kind: 'exec', command: 'touch', args: ['/etc/marker'], inTarget: true }])
  })

  it('fails the changes of a provider that is not loaded, without calling anything', async () => {
    const { steps } = await run(applierWith(), planOf([change('dnf:install:x', 'packages', 'install')], []))
    assert.deepEqual(steps.map((s) => [s.status, s.message]), [['failed', 'provider dnf is not loaded']])
    assert.deepEqual(host.actions, [])
  })

  it('tells a provider which of its needs this apply changed, and puts back a needed file it could not use (NEED_UNUSABLE)', async () => {
    const files: ApplicableProvider = {
      ...recordingProvider('files').provider,
      apply: async ({ changes, ctx }) => {
        for (const c of changes) await ctx.host.writeFileAtomic((c.data as { path: string }).path, 'deb [trusted=yes] http://127.0.0.1:9/debian ./\n')
        return { results: changes.map((c) => ({ id: c.id, status: 'applied' as const })), diagnostics: [] }
      },
    }
    const given: Array<Record<string, readonly string[]> | undefined> = []
    const apt: ApplicableProvider = {
      ...recordingProvider('apt').provider,
      apply: async ({ changes, changedNeeds }) => {
        given.push(changedNeeds)
        return {
          results: changes.map((c) =>
            c.id === 'apt:install:gone'
              ? { id: c.id, status: 'failed' as const, message: 'apt could not read it', diagnostics: [errorDiagnostic(NEED_UNUSABLE, 'apt could not read the repository of gone.list', { path: '/etc/apt/sources.list.d/gone.list' })] }
              : { id: c.id, status: 'applied' as const },
          ),
          diagnostics: [],
        }
      },
    }
    const write = (name: string) => change(`files:create:/etc/apt/sources.list.d/${name}`, 'files', 'create', { data: { action: 'write', path: `/etc/apt/sources.list.d/${name}` } })
    const needs = { needs: ['/etc/apt/sources.list.d/'] }
    const plan = planOf(
      [write('gone.list'), write('ok.list'), change('apt:install:gone', 'packages', 'install', needs), change('apt:install:ok', 'packages', 'install', needs), change('apt:install:plain', 'packages', 'install')],
      [
        ['files:create:/etc/apt/sources.list.d/gone.list', 'apt:install:gone'],
        ['files:create:/etc/apt/sources.list.d/ok.list', 'apt:install:gone'],
        ['files:create:/etc/apt/sources.list.d/gone.list', 'apt:install:ok'],
        ['files:create:/etc/apt/sources.list.d/ok.list', 'apt:install:ok'],
      ],
    )
    const { steps } = await run(applierWith(files, apt), plan)
    const both = ['/etc/apt/sources.list.d/gone.list', '/etc/apt/sources.list.d/ok.list']
    // apt:install:plain needs nothing: it runs in the first wave, beside the files, and is told nothing.
    assert.deepEqual(given, [undefined, { 'apt:install:gone': both, 'apt:install:ok': both }])
    assert.deepEqual(steps.map((s) => [s.id, s.status]), [
      ['files:create:/etc/apt/sources.list.d/gone.list', 'failed'],
      ['files:create:/etc/apt/sources.list.d/ok.list', 'applied'],
      ['apt:install:gone', 'failed'],
      ['apt:install:ok', 'applied'],
      ['apt:install:plain', 'applied'],
    ])
    assert.equal(steps[0]?.message, 'rolled back: apt:install:gone could not use it (apt could not read the repository of gone.list); /etc/apt/sources.list.d/gone.list is as it was before')
    assert.equal(await host.lstat('/etc/apt/sources.list.d/gone.list'), undefined, 'the new file is gone again')
    assert.equal((await host.lstat('/etc/apt/sources.list.d/ok.list'))?.type, 'file')
  })

  // Session 43: a plugin's apply that never answered while a timer of its kept Node alive held the
  // apply, and the twin's lock, for ever. Its code may still be changing the machine: nothing new starts.
  it("a provider's apply that does not answer within providers.applyTimeoutMs: its changes fail as maybe half done, the same wave's others finish, nothing new starts", async function () {
    this.timeout(10_000)
    const timers: NodeJS.Timeout[] = []
    const hung = recordingProvider('hung-s43')
    hung.provider.apply = async ({ changes }) => {
      hung.calls.push(changes.map((c) => c.id))
      timers.push(setInterval(() => undefined, 1000))
      return new Promise(() => {})
    }
    const apt = recordingProvider('apt')
    const plan = planOf(
      [change('hung-s43:set:a', 'packages', 'set'), change('apt:install:a', 'packages', 'install'), change('apt:hold:a', 'packages', 'hold')],
      [['apt:install:a', 'apt:hold:a']],
    )
    setCallTimeouts({ applyTimeoutMs: 150 })
    try {
      const started = Date.now()
      const { steps } = await run(applierWith(hung.provider, apt.provider), plan)
      assert.ok(Date.now() - started < 5000)
      assert.deepEqual(steps.map((s) => [s.id, s.status]), [
        ['hung-s43:set:a', 'failed'],
        ['apt:install:a', 'applied'],
        ['apt:hold:a', 'skipped'],
      ])
      assert.equal(steps[0]?.message, 'The hung-s43 provider did not answer apply() within 150 ms (providers.applyTimeoutMs): TwinSync stopped waiting for it; this change may be half done on the machine, and stays pending')
      assert.equal(steps[2]?.message, "not started: the hung-s43 provider's apply did not finish in time (providers.applyTimeoutMs), and may still be changing the machine")
      // Its journal says so of the step given up on only (status's lastApply.halfDone, session 44).
      assert.deepEqual(steps.map((s) => s.halfDone), [true, undefined, undefined])
      assert.deepEqual(apt.calls, [['apt:install:a']])
    } finally {
      setCallTimeouts({})
      for (const t of timers) clearInterval(t)
    }
  })

  // Session 46's review (Y1): a change was checked by the first service that reads it, and
  // reloaded for every one. A plugin's myapp reads /etc/nginx/conf.d/myapp.conf beside nginx's
  // `/etc/nginx/**`: only `nginx -t` judged it, and a file `myapp check` rejects went live.
  describe('a file two services read', () => {
    const NGINX: ConfigCheck = { service: 'nginx', paths: ['/etc/nginx/**'], argv: ['nginx', '-t'], units: ['nginx.service'] }
    const MYAPP: ConfigCheck = { service: 'myapp', paths: ['/etc/myapp/**', '/etc/nginx/conf.d/myapp.conf'], argv: ['myapp', 'check'], units: ['myapp.service'] }
    const CONF = '/etc/nginx/conf.d/myapp.conf'
    const SITE = '/etc/nginx/sites-enabled/site'
    const applyBoth = async (myappSays: number) => {
      // The checkers, where the distribution puts them (findChecker).
      for (const tool of ['usr/sbin/nginx', 'usr/bin/myapp']) {
        await mkdir(join(root, tool, '..'), { recursive: true })
        await writeFile(join(root, tool), '#!/bin/sh\n', { mode: 0o755 })
      }
      let written = false
      exec = (command) => (command === 'myapp' && written ? { exitCode: myappSays, stderr: myappSays === 0 ? '' : 'myapp: conf.d/myapp.conf: unknown key "colour"\n' } : undefined)
      const files: ApplicableProvider & { configChecks: ConfigCheck[] } = {
        ...recordingProvider('files').provider,
        configChecks: [NGINX],
        apply: async ({ changes, ctx }) => {
          for (const c of changes) await ctx.host.writeFileAtomic((c.data as { path: string }).path, 'new\n')
          written = true
          return { results: changes.map((c) => ({ id: c.id, status: 'applied' as const })), diagnostics: [] }
        },
      }
      const myapp = { ...recordingProvider('myapp').provider, configChecks: [MYAPP] }
      const write = (path: string) => change(`files:create:${path}`, 'files', 'create', { data: { action: 'write', path } })
      const { steps } = await run(applierWith(files, myapp), planOf([write(CONF), write(SITE)], []))
      const checkers = host.actions.flatMap((a) => (a.kind === 'exec' ? [[a.command, ...a.args].join(' ')] : []))
      return { steps, checkers }
    }

    it('is checked by both checkers after the write; rejected by either, it goes back with what it was checked with', async () => {
      const { steps, checkers } = await applyBoth(1)
      // Each checker on the live configuration first, then on the new one.
      assert.deepEqual(checkers, ['nginx -t', 'myapp check', 'nginx -t', 'myapp check'])
      assert.deepEqual(steps.map((s) => [s.id, s.status]), [
        [`files:create:${CONF}`, 'failed'],
        [`files:create:${SITE}`, 'failed'],
      ])
      for (const s of steps) assert.equal(s.message, '`myapp check` rejects the new myapp configuration; the previous files are back; myapp.service left alone', s.id)
      assert.equal(await host.lstat(CONF), undefined, 'the new file is gone again')
      assert.equal(await host.lstat(SITE), undefined, 'and the file nginx -t judged with it')
    })

    it('passed by both, the step names both checks', async () => {
      const { steps } = await applyBoth(0)
      assert.deepEqual(steps.map((s) => [s.id, s.status, s.message]), [
        [`files:create:${CONF}`, 'applied', 'checked: `nginx -t` passed; checked: `myapp check` passed'],
        [`files:create:${SITE}`, 'applied', 'checked: `nginx -t` passed'],
      ])
    })
  })
})
