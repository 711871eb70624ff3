import { strict as assert } from 'node:assert'
import { cp, lstat, mkdir, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { makeTempDir, removeTree, repoRoot, runOk, startTmux } from '../bed/index.js'
import { cliSandbox, json, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

const fixture = (name: string) => join(repoRoot, 'test', 'fixtures', 'plugins', name)

interface ProvidersJson {
  providers: Array<{ name: string; source: string; detected: boolean | null; version: string }>
  diagnostics: Array<{ severity: string; summary: string; provider?: string }>
}

/** Third-party providers arrive through the `twinsync:providers` oclif hook of installed plugins. */
describe('third-party provider plugins', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(join(root, 'etc'), { recursive: true })
    await writeFile(join(root, 'etc/demo-release'), 'demo 4.2\n')
    await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
    await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
    await writeFile(cli.configFile, 'providers:\n  hookTimeoutMs: 700\n')
    for (const name of ['twinsync-plugin-demo', 'twinsync-plugin-broken', 'twinsync-plugin-slow', 'twinsync-plugin-faulty']) {
      const r = await cli.twinsync(['plugins', 'link', fixture(name)])
      assert.equal(r.code, 0, r.stderr)
    }
  })
  after(() => cli.cleanup())

  it('lists a plugin provider with its version and detection; broken and slow plugins become diagnostics and exit 1', async () => {
    const r = await cli.twinsync(['providers', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(r.code, 1, `a plugin that failed to load is not silent: ${r.stderr}`)
    const out = json<ProvidersJson>(r)
    const demo = out.providers.find((p) => p.name === 'demo')
    assert.deepEqual(demo && { source: demo.source, detected: demo.detected, version: demo.version }, { source: 'twinsync-plugin-demo', detected: true, version: '1.0.0' })
    assert.ok(out.providers.some((p) => p.name === 'os' && p.source === '@twinsync/core'))
    const broken = out.diagnostics.find((d) => d.provider === 'twinsync-plugin-broken')
    assert.match(broken?.summary ?? '', /cannot start/)
    const slow = out.diagnostics.find((d) => d.provider === 'twinsync-plugin-slow')
    assert.match(slow?.summary ?? '', /Timed out after 700 ms/)
    const text = await cli.twinsync(['providers', '--root', root, '--repo', cli.twinDir])
    assert.equal(text.code, 1)
    assert.match(text.stdout, /twinsync-plugin-broken/)
  })

  // Session 49's review, C4: describe loads every plugin since session 49 and exited 1 when one
  // failed, so a script that runs it to learn the CLI failed on a broken plugin.
  it('describe with a plugin that fails to load: the manifest, exit 0, a warning naming the plugin on stderr and in its diagnostics; that plugin has no codes listed, the others do', async () => {
    const r = await cli.twinsync(['describe', '--root', root, '--repo', cli.twinDir])
    assert.equal(r.code, 0, r.stderr)
    const manifest = json<{ commands: Array<{ id: string }>; providerCodes: Record<string, { provider: string }>; diagnostics: Array<{ severity: string; code: string; provider?: string; summary: string }> }>(r)
    assert.ok(manifest.commands.some((c) => c.id === 'describe'))
    assert.equal(manifest.providerCodes.FILES_MANIFEST_INVALID?.provider, 'files', "the loaded providers' codes are listed")
    const broken = manifest.diagnostics.find((d) => d.provider === 'twinsync-plugin-broken')
    assert.deepEqual([broken?.severity, broken?.code], ['warning', 'PROVIDER_FAILED'])
    assert.match(broken?.summary ?? '', /^Plugin twinsync-plugin-broken failed to provide its providers: .*cannot start/)
    assert.match(r.stderr, /^warning: twinsync-plugin-broken: Plugin twinsync-plugin-broken failed to provide its providers: .*cannot start/m)
  })

  it('refuses a plugin whose @twinsync/sdk range does not accept this host, with a code and the next step, without running it', async () => {
    assert.equal((await cli.twinsync(['plugins', 'link', fixture('twinsync-plugin-future')])).code, 0)
    const r = await cli.twinsync(['providers', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal((await cli.twinsync(['plugins', 'unlink', 'twinsync-plugin-future'])).code, 0)
    const out = json<ProvidersJson>(r)
    const future = out.diagnostics.find((d) => d.provider === 'twinsync-plugin-future') as { code?: string; summary: string; detail?: string } | undefined
    assert.equal(future?.code, 'PLUGIN_SDK_MISMATCH', JSON.stringify(out.diagnostics))
    assert.match(future?.summary ?? '', /twinsync-plugin-future 3\.0\.0 needs @twinsync\/sdk \^9\.0\.0, but this TwinSync has 0\.1\.0/)
    assert.match(future?.detail ?? '', /twinsync plugins uninstall twinsync-plugin-future/)
    assert.doesNotMatch(r.stdout, /was loaded although/)
  })

  it("gives every plugin the host's own @twinsync/sdk (one instance): a link in the plugin's node_modules", async () => {
    const link = join(fixture('twinsync-plugin-demo'), 'node_modules', '@twinsync', 'sdk')
    assert.equal(await realpath(link), await realpath(join(repoRoot, 'sdk')))
    assert.ok((await lstat(link)).isSymbolicLink())
  })

  // Session 46 (the lead's decision): a plugin that failed to load left the snapshot at exit 0, so a
  // scheduled one recorded the rest and nothing failed (the timer's unit stayed green).
  it('collects the plugin provider into the twin while the broken ones are skipped; the snapshot names them and exits 1, the apt hook still exits 0', async () => {
    const r = await cli.twinsync(['snapshot', '--init', '--root', root, '--repo', cli.twinDir, '--json'])
    assert.equal(r.code, 1, `a plugin that failed to load is not a quiet exit 0: ${r.stderr}`)
    const out = json<{ commit?: string; notLoaded?: string[] }>(r)
    assert.ok(out.commit, 'the loaded providers are recorded')
    assert.deepEqual(out.notLoaded, ['twinsync-plugin-broken', 'twinsync-plugin-slow'])
    assert.deepEqual(JSON.parse(await readFile(join(cli.twinDir, 'system/packages/demo.json'), 'utf8')), { release: 'demo 4.2' })
    await writeFile(join(root, 'etc/motd'), 'a plugin failed to load\n')
    const text = await cli.twinsync(['snapshot', '--if-changed', '--root', root, '--repo', cli.twinDir])
    assert.equal(text.code, 1, text.stderr)
    assert.match(text.stdout, /^Snapshot [0-9a-f]{12} /)
    assert.match(text.stdout, /\n {2}twinsync-plugin-broken, twinsync-plugin-slow: NOT loaded, a plugin's fault, not TwinSync's; the twin keeps their part from the last snapshot\. Each error below says what to do \(update, reinstall or remove the plugin: `twinsync plugins`\); `twinsync providers --root \S+ --repo \S+ --config \S+` lists them again\./)
    assert.match(text.stdout, /error: twinsync-plugin-broken: Plugin twinsync-plugin-broken failed to provide its providers: .*cannot start/)
    // Nothing else changed: no snapshot made, and still exit 1 (the plugins are still not loaded).
    const again = await cli.twinsync(['snapshot', '--if-changed', '--root', root, '--repo', cli.twinDir])
    assert.equal(again.code, 1, again.stderr)
    assert.match(again.stdout, /^No snapshot made: what was collected is unchanged since [0-9a-f]{12}, but twinsync-plugin-broken, twinsync-plugin-slow failed to load\./)
    // The apt hook never fails apt's run, whatever its snapshot found.
    const hook = await cli.twinsync(['apt-hook', 'post', '--root', root, '--repo', cli.twinDir])
    assert.equal(hook.code, 0, hook.stderr)
  })

  it('a provider whose load() throws a TypeError: plan goes on for the others and names the plugin, apply refuses', async () => {
    await writeFile(join(cli.twinDir, 'filesystem/etc/demo-release'), 'demo 5.0\n')
    const plan = await cli.twinsync(['plan', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(plan.code, 1, `a plan with errors exits 1: ${plan.stderr}`)
    const out = json<{ changes: Array<{ id: string }>; diagnostics: Array<{ severity: string; code: string; summary: string; detail?: string; provider?: string }> }>(plan)
    assert.ok(out.changes.some((c) => c.id === 'files:replace:/etc/demo-release'), JSON.stringify(out.changes))
    const d = out.diagnostics.find((x) => x.provider === 'faulty')
    assert.equal(d?.code, 'PROVIDER_FAILED')
    assert.match(d?.summary ?? '', /The faulty provider failed in load\(\): TypeError: Cannot read properties of undefined/)
    assert.doesNotMatch(plan.stdout + plan.stderr, /bug in TwinSync|internal error/)
    const text = await cli.twinsync(['plan', '--root', root, '--repo', cli.twinDir])
    assert.match(text.stdout, /error: faulty: The faulty provider failed in load\(\)/)
    const apply = await cli.twinsync(['apply', '--yes', '--accept-high-risk', '--root', root, '--repo', cli.twinDir])
    assert.equal(apply.code, 2)
    assert.match(apply.stderr, /\[PROVIDER_FAILED\] Nothing was applied/)
    assert.equal(await readFile(join(root, 'etc/demo-release'), 'utf8'), 'demo 4.2\n')
  })
})

describe('a twin document whose plugin is missing', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(join(root, 'etc'), { recursive: true })
    await writeFile(join(root, 'etc/demo-release'), 'demo 4.2\n')
    assert.equal((await cli.twinsync(['plugins', 'link', fixture('twinsync-plugin-demo')])).code, 0)
    const snap = await cli.twinsync(['snapshot', '--init', '--root', root, '--repo', cli.twinDir, '--json'])
    assert.equal(snap.code, 0, snap.stderr)
    const manifest = JSON.parse(await readFile(join(cli.twinDir, 'system/twinsync/providers.json'), 'utf8')) as { providers: Array<{ name: string; source: string }> }
    assert.ok(manifest.providers.some((p) => p.name === 'demo' && p.source === 'twinsync-plugin-demo'), 'the snapshot records which plugin writes what')
    assert.equal((await cli.twinsync(['plugins', 'unlink', 'twinsync-plugin-demo'])).code, 0)
  })
  after(() => cli.cleanup())

  it('status names the missing plugin and exits 1 instead of saying "In sync"', async () => {
    const r = await cli.twinsync(['status', '--root', root, '--repo', cli.twinDir])
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /Missing provider: The twin has system\/packages\/demo\.json of the demo provider from plugin twinsync-plugin-demo 1\.0\.0, which is not installed or failed to load/)
    assert.match(r.stdout, /twinsync plugins install twinsync-plugin-demo/)
    const j = await cli.twinsync(['status', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(json<{ missing: Array<{ code: string }> }>(j).missing[0]?.code, 'PROVIDER_MISSING')
  })

  it('plan reports it as an error and exits 1', async () => {
    const r = await cli.twinsync(['plan', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(r.code, 1, r.stderr)
    const d = json<{ diagnostics: Array<{ code: string; severity: string; summary: string }> }>(r).diagnostics.find((x) => x.code === 'PROVIDER_MISSING')
    assert.equal(d?.severity, 'error')
    assert.match(d?.summary ?? '', /plugin twinsync-plugin-demo/)
  })

  // Session 18: the twin is untrusted input, and its own providers.json chose the plugin that
  // TwinSync's next step said to install (as root): a pulled one named any package at all.
  it('a plugin only the twin\'s own manifest names (pulled or edited) is never given as `twinsync plugins install`; the one this machine recorded still is', async () => {
    const manifestPath = join(cli.twinDir, 'system/twinsync/providers.json')
    const saved = await readFile(manifestPath, 'utf8')
    const manifest = JSON.parse(saved) as { providers: Array<Record<string, unknown>> }
    manifest.providers.push({ name: 'evil', version: '6.6.6', source: 'evil-plugin', twinPaths: ['system/evil/'] })
    await writeFile(manifestPath, `${JSON.stringify(manifest)}\n`)
    await mkdir(join(cli.twinDir, 'system/evil'), { recursive: true })
    await writeFile(join(cli.twinDir, 'system/evil/x.json'), '{}\n')
    try {
      for (const command of ['plan', 'status']) {
        const r = await cli.twinsync([command, '--root', root, '--repo', cli.twinDir])
        assert.equal(r.code, 1, r.stdout + r.stderr)
        assert.match(r.stdout, /the twin's own system\/twinsync\/providers\.json says the evil provider from plugin evil-plugin 6\.6\.6 wrote it, which no snapshot of this machine recorded/, command)
        assert.doesNotMatch(r.stdout + r.stderr, /install evil-plugin/, command)
        assert.match(r.stdout, /twinsync plugins install twinsync-plugin-demo/, command)
      }
    } finally {
      await writeFile(manifestPath, saved)
      await rm(join(cli.twinDir, 'system/evil'), { recursive: true, force: true })
    }
  })
})

/** A provider is plugin code: what it does wrong is said as its failure, never as TwinSync's, never in silence. */
describe('a plugin provider that answers wrongly', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string
  const snapshot = (mode: string, ...more: string[]) => cli.twinsync(['snapshot', '--root', root, '--repo', cli.twinDir, ...more], { env: { TWINSYNC_TEST_UNSOUND: mode } })
  const head = () => runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD']).then((r) => r.stdout)

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(join(root, 'etc'), { recursive: true })
    await writeFile(join(root, 'etc/motd'), 'one\n')
    assert.equal((await cli.twinsync(['plugins', 'link', fixture('twinsync-plugin-unsound')])).code, 0)
    const first = await cli.twinsync(['snapshot', '--init', '--root', root, '--repo', cli.twinDir])
    assert.equal(first.code, 0, first.stderr)
  })
  after(() => cli.cleanup())

  // Session 42: Node ends a process whose event loop is empty; a snapshot whose provider's
  // collect() never settled (and waited on nothing) exited 0, printing nothing, no snapshot made.
  it("a collect() that never answers: the snapshot says so, naming the provider and the call (exit 1, --json too), not a silent exit 0", async () => {
    await writeFile(join(root, 'etc/motd'), 'two\n')
    const before = await head()
    const r = await snapshot('collect-never')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stderr, /\[PROVIDER_FAILED\] The run ended before it finished: the unsound provider's collect\(\) never answered/)
    assert.match(r.stderr, /Next step: A fault in the unsound provider, not in TwinSync/)
    assert.equal(await head(), before, 'no snapshot')
    const j = await snapshot('collect-never', '--json')
    assert.equal(j.code, 1)
    assert.equal(json<{ error: { code: string } }>(j).error.code, 'PROVIDER_FAILED')
    const again = await snapshot('')
    assert.equal(again.code, 0, again.stderr)
    assert.notEqual(await head(), before, 'the provider fixed, the snapshot is made')
  })

  // Session 42 (attack): a provider calling process.exit(0) in its collect() ended the snapshot
  // as a success, silent, no snapshot made: cron saw exit 0.
  it('a collect() that ends the process with exit code 0: the snapshot says so, naming the provider and the call (exit 1, --json too)', async () => {
    await writeFile(join(root, 'etc/motd'), 'exit\n')
    const before = await head()
    const r = await snapshot('collect-exit')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    // The other providers' calls under way are named too; where process.exit was called tells which.
    assert.match(r.stderr, /\[PROVIDER_FAILED\] The run ended before it finished: the process was ended with exit code 0 \(process\.exit, called at (?:Object\.)?collect \(.*twinsync-plugin-unsound\/hook\.js:\d+:\d+\)\) while .*the unsound provider's collect\(\).* had not answered/)
    assert.match(r.stderr, /Next step: A fault in the providers? .*unsound.*, not in TwinSync/)
    assert.equal(await head(), before, 'no snapshot')
    const j = await snapshot('collect-exit', '--json')
    assert.equal(j.code, 1)
    assert.equal(json<{ error: { code: string } }>(j).error.code, 'PROVIDER_FAILED')
  })

  // Session 46: the TUI's bundle held its own copy of unanswered-calls.ts, so the calls under way
  // the panel made were in a Map the command's exit listener never read: a provider's
  // process.exit(0) under the panel ended it as exit 0, unsaid (and leavingOnPurpose() set a flag
  // nothing read). One instance now (core/scripts/bundle.mjs, SHARED_WITH_TUI).
  it("a collect() that ends the process with exit code 0 under the control panel: said, naming the provider and the call, exit 1 (real `twinsync tui`, tmux)", async () => {
    await writeFile(join(root, 'etc/motd'), 'exit under the panel\n')
    const tmux = await startTmux([process.execPath, TWINSYNC_BIN, 'tui', '--root', root, '--repo', cli.twinDir], { env: cli.env({ TWINSYNC_TEST_UNSOUND: 'collect-exit' }), cols: 200, rows: 50 })
    try {
      // The status line's drift check collects: the plugin's collect() ends the process.
      assert.equal(await tmux.waitForExit(60_000), 1, await tmux.screen())
      // The terminal wraps at 200 columns: a full row goes on in the next one.
      const screen = (await tmux.screen()).split('\n').reduce((all, l) => `${all}${l}${l.length >= 200 ? '' : ' '}`, '')
      assert.match(screen, /\[PROVIDER_FAILED\] The run ended before it finished: the process was ended with exit code 0 \(process\.exit, called at (?:Object\.)?collect \(.*twinsync-plugin-unsound\/hook\.js:\d+:\d+\)\) while .*the unsound provider's collect\(\)/)
    } finally {
      await tmux.close()
    }
  })

  // Session 42: a result of the wrong shape was read as if whole: "internal error ... a bug in
  // TwinSync", exit 1, every snapshot, plan and status stopped, the plugin named nowhere.
  const notTheResult = (call: string, what: string) => new RegExp(`The unsound provider failed in ${call}\\(\\): it returned ${what}, not the ${call}\\(\\) result the SDK describes`)
  const collectModes: Array<[string, string, string]> = [
    ['detect-null', 'detect', 'null'],
    ['collect-empty', 'collect', 'no diagnostics list'],
    ['collect-null-document', 'collect', 'documents whose item 1 is null'],
    ['collect-bad-diagnostic', 'collect', 'diagnostics whose item 1 is not a diagnostic: string "not a diagnostic"'],
  ]
  for (const [mode, call, what] of collectModes) {
    it(`${call}() answering ${mode}: the snapshot names the provider, keeps its part and commits the others' (exit 1, no internal error)`, async () => {
      await writeFile(join(root, 'etc/motd'), `${mode}\n`)
      const r = await snapshot(mode)
      assert.equal(r.code, 1, r.stdout + r.stderr)
      assert.match(r.stdout + r.stderr, notTheResult(call, what))
      assert.doesNotMatch(r.stdout + r.stderr, /internal error|bug in TwinSync/)
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, `${mode}\n`, 'the files provider went on')
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/unsound.json'])).stdout, '{}\n', "the unsound provider's part kept")
    })
  }

  const twinModes: Array<[string, string, string]> = [
    ['load-null', 'load', 'null'],
    ['diff-null-change', 'diff', 'changes whose item 1 is null'],
  ]
  for (const [mode, call, what] of twinModes) {
    it(`${call}() answering ${mode}: plan and status name the provider (exit 1, no internal error), the others' changes planned`, async () => {
      await writeFile(join(cli.twinDir, 'system/unsound.json'), '{"asked":1}\n')
      await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'asked in the twin\n')
      try {
        const plan = await cli.twinsync(['plan', '--json', '--root', root, '--repo', cli.twinDir], { env: { TWINSYNC_TEST_UNSOUND: mode } })
        assert.equal(plan.code, 1, plan.stderr)
        const out = json<{ changes: Array<{ id: string }>; diagnostics: Array<{ code: string; summary: string; provider?: string }> }>(plan)
        assert.match(out.diagnostics.find((d) => d.provider === 'unsound')?.summary ?? '', notTheResult(call, what))
        assert.ok(out.changes.some((c) => c.id === 'files:replace:/etc/motd'), JSON.stringify(out.changes))
        const status = await cli.twinsync(['status', '--root', root, '--repo', cli.twinDir], { env: { TWINSYNC_TEST_UNSOUND: mode } })
        assert.equal(status.code, 1, status.stdout + status.stderr)
        assert.match(status.stdout, notTheResult(call, what))
        assert.doesNotMatch(status.stdout + status.stderr, /internal error|bug in TwinSync/)
      } finally {
        await runOk(['git', '-C', cli.twinDir, 'checkout', '--', 'system/unsound.json', 'filesystem/etc/motd'])
      }
    })
  }

  // Session 42 (attack), 43: a plugin's console.log or process.stdout.write (here a terminal's
  // clear screen too) came before the JSON of `snapshot --json`: `twinsync status --json | jq` failed.
  it("a plugin's own output on stdout (console.log, raw bytes, in its hook and every call) goes to stderr under --json: snapshot, plan, status and apply print JSON alone", async () => {
    const printing = { env: { TWINSYNC_TEST_UNSOUND: 'print' } }
    const jsonOf = (r: { code: number | null; stdout: string; stderr: string }, what: string) => {
      try {
        return JSON.parse(r.stdout) as Record<string, unknown>
      } catch {
        assert.fail(`${what} --json printed more than its JSON (exit ${r.code}):\n${r.stdout.slice(0, 400)}`)
      }
    }
    await writeFile(join(root, 'etc/motd'), 'printed\n')
    const snap = await snapshot('print', '--json')
    assert.equal(snap.code, 0, snap.stderr)
    assert.ok(jsonOf(snap, 'snapshot').commit)
    for (const call of ['its providers hook', 'detect', 'collect']) {
      assert.match(snap.stderr, new RegExp(`unsound says hello from ${call}\n`), 'console.log reaches stderr')
      assert.match(snap.stderr, new RegExp(`\u001b\\[2J GARBAGE from ${call}\n`), 'raw bytes reach stderr, unchanged')
    }
    await writeFile(join(cli.twinDir, 'system/unsound.json'), '{"asked":3}\n')
    await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'asked with noise\n')
    const plan = await cli.twinsync(['plan', '--json', '--root', root, '--repo', cli.twinDir], printing)
    assert.equal(plan.code, 0, plan.stderr)
    assert.deepEqual((jsonOf(plan, 'plan').changes as Array<{ id: string }>).map((c) => c.id).sort(), ['files:replace:/etc/motd', 'unsound:set:state'])
    assert.match(plan.stderr, /unsound says hello from diff/)
    const status = await cli.twinsync(['status', '--json', '--root', root, '--repo', cli.twinDir], printing)
    assert.equal(status.code, 0, status.stderr)
    assert.deepEqual((jsonOf(status, 'status').pending as { items: Array<{ id: string }> }).items.map((c) => c.id).sort(), ['files:replace:/etc/motd', 'unsound:set:state'])
    assert.match(status.stderr, /unsound says hello from load/)
    // A person's text output is left as it is: the plugin's lines read where it printed them.
    const text = await cli.twinsync(['plan', '--root', root, '--repo', cli.twinDir], printing)
    assert.match(text.stdout, /unsound says hello from diff[\s\S]*Plan: 2 changes/)
    const apply = await cli.twinsync(['apply', '--yes', '--json', '--root', root, '--repo', cli.twinDir], printing)
    assert.equal(apply.code, 0, apply.stderr)
    assert.equal(jsonOf(apply, 'apply').applied, true)
    assert.match(apply.stderr, /GARBAGE from apply/)
    assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'asked with noise\n')
  })

  // Session 43: a call that never answered while something of the plugin's kept Node alive (a
  // timer here; a socket, a poll loop) held the command, and the twin's lock, for ever. The limit
  // is made small; each run here is killed after 30 s (the old code's hang).
  describe('a call that never answers while the plugin keeps the process alive', () => {
    const limits = 'providers:\n  callTimeoutMs: 2000\n  applyTimeoutMs: 2000\n'
    const hanging = (mode: string) => ({ env: { TWINSYNC_TEST_UNSOUND: mode }, timeoutMs: 30_000 })
    beforeEach(() => writeFile(cli.configFile, limits))
    afterEach(() => writeFile(cli.configFile, '{}\n'))

    it('collect(): the snapshot stops waiting after providers.callTimeoutMs, names the provider and the call, commits the others (exit 1, --json valid), and the run ends', async () => {
      await writeFile(join(root, 'etc/motd'), 'hang\n')
      const started = Date.now()
      const r = await cli.twinsync(['snapshot', '--json', '--root', root, '--repo', cli.twinDir], hanging('collect-hang'))
      assert.equal(r.code, 1, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr}`)
      const out = JSON.parse(r.stdout) as { commit?: string; diagnostics: Array<{ code: string; summary: string; provider?: string; detail?: string }> }
      const d = out.diagnostics.find((x) => x.provider === 'unsound')
      assert.equal(d?.code, 'PROVIDER_FAILED')
      assert.match(d?.summary ?? '', /^The unsound provider did not answer collect\(\) within 2 s \(providers\.callTimeoutMs\): TwinSync stopped waiting for it$/)
      assert.match(d?.detail ?? '', /keeps the state of the last snapshot.*raise providers\.callTimeoutMs/)
      assert.ok(out.commit, 'the others are committed')
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, 'hang\n')
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/unsound.json'])).stdout, '{}\n', "the unsound provider's part kept")
      assert.ok(Date.now() - started < 20_000, `ended in ${Date.now() - started} ms`)
      // The lock went with the run: the next one goes ahead.
      const next = await cli.twinsync(['status', '--root', root, '--repo', cli.twinDir])
      assert.equal(next.code, 0, next.stdout + next.stderr)
    })

    it('load(): status --json names it among the parts not compared (exit 1), the run ends', async () => {
      await writeFile(join(cli.twinDir, 'system/unsound.json'), '{"asked":4}\n')
      try {
        const started = Date.now()
        const r = await cli.twinsync(['status', '--json', '--root', root, '--repo', cli.twinDir], hanging('load-hang'))
        assert.equal(r.code, 1, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr}`)
        const unread = (JSON.parse(r.stdout) as { unread: Array<{ code: string; summary: string; provider?: string }> }).unread
        assert.ok(unread.some((u) => u.summary === 'The unsound provider did not answer load() within 2 s (providers.callTimeoutMs): TwinSync stopped waiting for it'), JSON.stringify(unread))
        // Given up on once, it is not asked again in this run (status's live look would wait as long again).
        assert.ok(unread.some((u) => /^The unsound provider was not asked for detect\(\): it did not answer load\(\) within 2 s \(providers\.callTimeoutMs\) earlier in this run$/.test(u.summary)), JSON.stringify(unread))
        assert.deepEqual([...new Set(unread.map((u) => `${u.code} ${u.provider}`))], ['PROVIDER_FAILED unsound'])
        assert.ok(Date.now() - started < 15_000, `ended in ${Date.now() - started} ms: one limit, not one a call`)
      } finally {
        await runOk(['git', '-C', cli.twinDir, 'checkout', '--', 'system/unsound.json'])
      }
    })

    // Session 45: leaving the panel waits for its work (busy.ts, session 44), and a provider call
    // that ignores the cancel was waited for up to providers.callTimeoutMs with nothing on screen.
    it('leaving the panel while collect() hangs: a line names the provider and the call and how long at most; Ctrl-C stops waiting for it, the panel ends (exit 0) and the twin is left whole (real `twinsync tui`, tmux)', async () => {
      await writeFile(cli.configFile, 'providers:\n  callTimeoutMs: 600000\n')
      const hanging = join(cli.dir, 'collect-hanging')
      await rm(hanging, { force: true })
      const tmux = await startTmux([process.execPath, TWINSYNC_BIN, 'tui', '--root', root, '--repo', cli.twinDir], { env: cli.env({ TWINSYNC_TEST_UNSOUND: 'collect-hang', TWINSYNC_TEST_UNSOUND_HANGING: hanging }) })
      try {
        // "drift:" alone: a long twin path cuts the status line to "drift:…" (CI, a 4-digit pid in the path).
        await tmux.waitFor(/Main menu[\s\S]*drift:/, 60_000)
        // The drift check's collect has reached the plugin (a collect cancelled before it starts a provider's never calls it).
        for (let i = 0; i < 600 && !existsSync(hanging); i++) await new Promise((r) => setTimeout(r, 100))
        assert.ok(existsSync(hanging), "the plugin's collect was called")
        await tmux.send('q')
        const said = await tmux.waitFor(/Leaving: stopping[\s\S]*Ctrl-C to stop waiting now\./, 30_000)
        // The terminal wraps at 80 columns, in a word or at a space (which it trims).
        const unwrap = (screen: string) => screen.split('\n').reduce((all, l) => `${all}${l}${l.length >= 80 ? '' : ' '}`, '').replace(/ +/g, ' ')
        const line = unwrap(said)
        assert.match(line, /Leaving: stopping the status line's drift check, which waits for the unsound provider's collect\(\): it did not stop when asked\. TwinSync stops waiting for it in (9\.\d|10) min at most \(providers\.callTimeoutMs\); Ctrl-C to stop waiting now\./, said)
        const asked = Date.now()
        await tmux.send('C-c')
        const stopped = unwrap(await tmux.waitFor(/Stopped waiting for[\s\S]*leave at once\./, 30_000))
        assert.match(stopped, /Stopped waiting for the unsound provider's collect\(\); its code may still run until TwinSync ends\. Finishing TwinSync's own steps; Ctrl-C again to leave at once\./)
        assert.equal(await tmux.waitForExit(30_000), 0)
        assert.ok(Date.now() - asked < 20_000, `ended ${Date.now() - asked} ms after the Ctrl-C`)
        const last = await tmux.screen()
        assert.doesNotMatch(last, /\[[A-Z_]+\]|rror/, 'no error said on leaving')
      } finally {
        await tmux.close()
      }
      // Nothing left half done in the twin: no git lock, and the next command goes ahead.
      assert.equal(existsSync(join(cli.twinDir, '.git', 'index.lock')), false)
      const next = await cli.twinsync(['status', '--root', root, '--repo', cli.twinDir])
      assert.equal(next.code, 0, next.stdout + next.stderr)
    })

    it('apply(): that step fails as maybe half done and stays pending, the others are applied, the run ends (exit 1)', async () => {
      await writeFile(join(cli.twinDir, 'system/unsound.json'), '{"asked":5}\n')
      await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'applied beside a hang\n')
      const r = await cli.twinsync(['apply', '--yes', '--root', root, '--repo', cli.twinDir], hanging('apply-hang'))
      assert.equal(r.code, 1, `exit ${r.code} ${r.signal ?? ''}: ${r.stdout}${r.stderr}`)
      assert.match(r.stdout, /FAILED +set the state: The unsound provider did not answer apply\(\) within 2 s \(providers\.applyTimeoutMs\): TwinSync stopped waiting for it; this change may be half done on the machine, and stays pending/)
      assert.match(r.stdout, /Next step: What it was applying may be half done on the machine; the changes it had not reported stay pending/)
      assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'applied beside a hang\n')
      const status = await cli.twinsync(['status', '--json', '--root', root, '--repo', cli.twinDir])
      assert.equal(status.code, 0, status.stderr)
      const pending = (JSON.parse(status.stdout) as { pending: { items: Array<{ id: string; reason: string; lastApply?: Record<string, unknown> }> } }).pending.items
      assert.deepEqual(pending.map((p) => p.id), ['unsound:set:state'], 'the ask is kept')
      // Session 44: with the failure, not "asked for in the twin, not applied yet" (the run had given
      // up on the provider, its snapshot could not compare the domain and dropped the reason).
      const said = 'The unsound provider did not answer apply() within 2 s (providers.applyTimeoutMs): TwinSync stopped waiting for it; this change may be half done on the machine, and stays pending'
      const at = /^failed in the apply of (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ): /.exec(pending[0]?.reason ?? '')?.[1]
      assert.equal(pending[0]?.reason, `failed in the apply of ${at}: ${said}`)
      const journal = `system/journal/apply-${at?.replace(/[:]/g, '')}.json`
      assert.deepEqual(pending[0]?.lastApply, { at, outcome: 'failed', code: 'PROVIDER_FAILED', message: said, halfDone: true, journal })
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'cat-file', '-e', `HEAD:${journal}`])).code, 0, 'the journal it names')
      const text = await cli.twinsync(['status', '--root', root, '--repo', cli.twinDir])
      assert.ok(text.stdout.includes(`    unsound:set:state  the twin asks to set the state (failed in the apply of ${at}: ${said}) [PROVIDER_FAILED]\n      Next step: it may be half done on the machine: check it there before you apply again (that apply's journal: ${journal})`), text.stdout)
    })
  })

  it("apply() answering without its results: that step fails naming the provider, the others are applied", async () => {
    await writeFile(join(cli.twinDir, 'system/unsound.json'), '{"asked":2}\n')
    await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'applied\n')
    const r = await cli.twinsync(['apply', '--yes', '--root', root, '--repo', cli.twinDir], { env: { TWINSYNC_TEST_UNSOUND: 'apply-empty' } })
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /FAILED +set the state: /)
    assert.match(r.stdout, notTheResult('apply', 'no results list'))
    assert.doesNotMatch(r.stdout + r.stderr, /internal error|bug in TwinSync/)
    assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'applied\n')
    // status says that failure (not "maybe half done": the provider answered).
    const status = await cli.twinsync(['status', '--json', '--root', root, '--repo', cli.twinDir])
    const item = (JSON.parse(status.stdout) as { pending: { items: Array<{ id: string; reason: string; lastApply?: Record<string, unknown> }> } }).pending.items.find((i) => i.id === 'unsound:set:state')
    const said = 'The unsound provider failed in apply(): it returned no results list, not the apply() result the SDK describes'
    assert.match(item?.reason ?? '', new RegExp(`^failed in the apply of \\S+: ${said.replace(/[()]/g, '\\$&')}$`))
    const { at, journal, ...rest } = item?.lastApply ?? {}
    assert.deepEqual(rest, { outcome: 'failed', code: 'PROVIDER_FAILED', message: said })
    assert.equal(journal, `system/journal/apply-${String(at).replace(/:/g, '')}.json`)
  })

  // Session 43: a twin's tree holds a path as a file or as a folder, never both, and holds it once.
  // A collect handing in `x` and `x/y` committed only `x/y` (`x` dropped without a word), one path
  // twice kept the last, and a name with a newline or an escape outside filesystem/ was committed.
  const paths = async () => (await runOk(['git', '-C', cli.twinDir, 'ls-tree', '-r', '-z', '--name-only', 'HEAD'])).stdout.split('\0').filter((p) => p.startsWith('system/unsound'))
  const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/
  const pathModes: Array<[string, RegExp]> = [
    ['collect-file-and-folder', /The unsound provider failed in collect\(\): it returned documents system\/unsound\/x and system\/unsound\/x\/y: a file and a folder at one path/],
    ['collect-twice', /The unsound provider failed in collect\(\): it returned the document system\/unsound\/twice twice/],
    ['collect-control', /The unsound provider failed in collect\(\): it returned a document the twin cannot hold: system\/unsound\/line\\nbreak, a control character/],
  ]
  for (const [mode, said] of pathModes) {
    it(`collect() answering ${mode}: PROVIDER_FAILED naming the provider and the paths (spelled out), its part kept, the others committed; nothing dropped in silence`, async () => {
      await writeFile(join(root, 'etc/motd'), `${mode}\n`)
      const before = await paths()
      for (const args of [[], ['--json']]) {
        const r = await snapshot(mode, ...args)
        assert.equal(r.code, 1, r.stdout + r.stderr)
        if (args.length === 0) {
          assert.match(r.stdout + r.stderr, said)
          assert.doesNotMatch(r.stdout + r.stderr, RAW, 'a raw control byte printed')
        } else {
          const d = json<{ diagnostics: Array<{ code: string; provider?: string; summary: string }> }>(r).diagnostics.find((x) => x.provider === 'unsound')
          assert.equal(d?.code, 'PROVIDER_FAILED', r.stdout)
          assert.match(d?.summary ?? '', said)
        }
        assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, `${mode}\n`, 'the files provider went on')
        assert.deepEqual(await paths(), before, "the unsound provider's part kept as it was")
      }
    })
  }

  it("unsound-b writes a folder where unsound's document is, unsound collecting it too: unsound-b is refused naming both, unsound's document kept (before: dropped in silence)", async () => {
    await writeFile(join(root, 'etc/motd'), 'folder-over-file\n')
    const r = await snapshot('folder-over-file')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout + r.stderr, /The unsound-b provider failed in collect\(\): it returned system\/unsound\.json\/inner, a folder where the twin keeps the file system\/unsound\.json \(the unsound provider's document\)/)
    assert.deepEqual(await paths(), ['system/unsound.json'])
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/unsound.json'])).stdout, '{}\n')
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, 'folder-over-file\n')
  })

  it("unsound-b writes a folder where unsound's document is while unsound fails (its part kept): unsound-b is refused, the kept document stays (before: dropped in silence)", async () => {
    await writeFile(join(root, 'etc/motd'), 'folder-over-kept-file\n')
    const r = await snapshot('folder-over-kept-file')
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout + r.stderr, /The unsound provider failed in collect\(\): Error: unsound cannot collect this time|The unsound provider failed in collect\(\): unsound cannot collect this time/)
    assert.match(r.stdout + r.stderr, /The unsound-b provider failed in collect\(\): it returned system\/unsound\.json\/inner, a folder where the twin keeps the file system\/unsound\.json \(the unsound provider's document\)/)
    assert.deepEqual(await paths(), ['system/unsound.json'])
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, 'folder-over-kept-file\n')
  })

  it("a machine file that became a folder: the files provider's own change is committed as before (the file goes, the folder comes), no refusal", async () => {
    await writeFile(join(root, 'etc/turns'), 'a file\n')
    assert.equal((await snapshot('')).code, 0)
    await rm(join(root, 'etc/turns'))
    await mkdir(join(root, 'etc/turns'))
    await writeFile(join(root, 'etc/turns/inner'), 'in a folder\n')
    const r = await snapshot('')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const names = (await runOk(['git', '-C', cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD', 'filesystem/etc/'])).stdout.split('\n')
    assert.ok(names.includes('filesystem/etc/turns/inner') && !names.includes('filesystem/etc/turns'), names.join(' '))
  })

  // Session 43 (adoptpaths): a document outside its provider's part of the twin was dropped with
  // a log line only (--verbose); a person saw nothing of it.
  it('collect() handing in documents outside its part of the twin: a warning naming the provider and the paths (text and --json), the documents not written, the rest committed', async () => {
    await writeFile(join(root, 'etc/motd'), 'not-owned\n')
    for (const args of [[], ['--json']]) {
      const r = await snapshot('collect-not-owned', ...args)
      assert.equal(r.code, 0, r.stdout + r.stderr)
      const said = /The unsound provider handed in 2 documents outside its part of the twin: system\/elsewhere\.json \(no provider's\), filesystem\/etc\/motd \(the files provider's\); they were not written/
      if (args.length === 0) assert.match(r.stdout, new RegExp(`warning: unsound: ${said.source}`))
      else {
        const d = json<{ diagnostics: Array<{ code: string; severity: string; provider?: string; summary: string }> }>(r).diagnostics.find((x) => x.provider === 'unsound')
        assert.deepEqual([d?.code, d?.severity], ['PROVIDER_FAILED', 'warning'], r.stdout)
        assert.match(d?.summary ?? '', said)
      }
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, 'not-owned\n', "the machine's file, not the plugin's")
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'ls-tree', '--name-only', 'HEAD', 'system/elsewhere.json'])).stdout, '')
    }
  })

  // Session 43 (adoptpaths): `adopt` wrote a provider's collected documents straight into the
  // working twin, without the snapshot's look at their paths: `x` then `x/y` adopted only `x/y`,
  // one path twice the last, a newline in a name outside filesystem/ was committed, and unsound-b's
  // folder removed unsound's document, all with exit 0. Now the adopt is refused before anything
  // is written (PROVIDER_FAILED naming the provider and the paths, spelled out; exit 2).
  const adopt = (mode: string, ...args: string[]) => cli.twinsync(['adopt', ...args, '--root', root, '--repo', cli.twinDir], { env: { TWINSYNC_TEST_UNSOUND: mode, TWINSYNC_TEST_UNSOUND_DRIFT: '1' } })
  const porcelain = async () => (await runOk(['git', '-C', cli.twinDir, 'status', '--porcelain', '-z', '--untracked-files=all'])).stdout
  const adoptModes: Array<[string, string, RegExp]> = [
    ...pathModes.map(([mode, said]): [string, string, RegExp] => [mode, 'unsound', said]),
    ['folder-over-file', 'unsound-b', /The unsound-b provider failed in collect\(\): it returned system\/unsound\.json\/inner, a folder where the twin keeps the file system\/unsound\.json \(the unsound provider's document\)/],
  ]
  for (const [mode, who, said] of adoptModes) {
    it(`adopt ${who} whose collect() answers ${mode}: refused with PROVIDER_FAILED naming the provider and the paths (spelled out), nothing written to the twin (before: adopted, something dropped in silence)`, async () => {
      const before = { head: await head(), paths: await paths(), porcelain: await porcelain() }
      for (const args of [[], ['--json']]) {
        const r = await adopt(mode, who, ...args)
        assert.equal(r.code, 2, r.stdout + r.stderr)
        if (args.length === 0) {
          assert.match(r.stderr, new RegExp(`\\[PROVIDER_FAILED\\] ${said.source}`))
          assert.match(r.stderr, new RegExp(`Next step: A fault in the ${who} provider, not in TwinSync: nothing was adopted`))
          assert.doesNotMatch(r.stdout + r.stderr, RAW, 'a raw control byte printed')
        } else {
          const e = json<{ error: { code: string; message: string; details?: { provider?: string } } }>(r).error
          assert.equal(e.code, 'PROVIDER_FAILED', r.stdout)
          assert.match(e.message, said)
          assert.equal(e.details?.provider, who)
        }
        assert.deepEqual({ head: await head(), paths: await paths(), porcelain: await porcelain() }, before, 'the twin as it was')
      }
    })
  }

  // Session 44: a document path no tree of the twin holds failed the whole snapshot (PATH_INVALID,
  // exit 2, the files provider's change not committed either) and the adopt (PATH_INVALID, or
  // GIT_FAILED after writing it, or an internal error for ENAMETOOLONG); an absolute path or one
  // in the twin's own files was only left out, and two lone surrogates became one name held twice
  // in one tree. Each refuses that provider alone now, the snapshot's and the adopt's one rule.
  const handing = (...list: string[]) => ({ TWINSYNC_TEST_UNSOUND_PATHS: JSON.stringify(list) })
  const deep = `system/unsound/${Array.from({ length: 25 }, () => 'd'.repeat(199)).join('/')}`.slice(0, 5000)
  const unholdable: Array<[string, string[], RegExp]> = [
    ['a .. that escapes', ['system/unsound/../../../etc/passwd'], /system\/unsound\/\.\.\/\.\.\/\.\.\/etc\/passwd, a \.\. part/],
    ["a .. that stays inside", ['system/unsound/a/../b'], /system\/unsound\/a\/\.\.\/b, a \.\. part/],
    ['.git/config', ['system/unsound/.git/config'], /system\/unsound\/\.git\/config, a name git keeps for its own repository/],
    ['.GIT', ['system/unsound/.GIT/x'], /system\/unsound\/\.GIT\/x, a name git keeps/],
    ['a hook of a .git below', ['system/unsound/x/.git/hooks/pre-commit'], /system\/unsound\/x\/\.git\/hooks\/pre-commit, a name git keeps/],
    ['.git with a space (git refuses it too)', ['system/unsound/.git /x'], /system\/unsound\/\.git \/x, a name git keeps/],
    ['a NUL', ['system/unsound/a\0b'], /system\/unsound\/a\\x00b, a NUL byte/],
    ['a name of 300 bytes', [`system/unsound/${'n'.repeat(300)}`], /system\/unsound\/n{300}, a name of 300 bytes \(a file name holds 255 at most\)/],
    ['a path of 5,000 bytes', [deep], /system\/unsound\/d{199}(?:\/d{1,199}){24}, a path of 5000 bytes \(a twin path holds 3072 at most/],
    ['an absolute path', ['/system/unsound/abs'], /\/system\/unsound\/abs, an absolute path/],
    ["the twin's own plans/", ['plans/evil.yaml'], /plans\/evil\.yaml, a path outside system\/ and filesystem\//],
    ['a .gitmodules', ['system/unsound/.gitmodules'], /system\/unsound\/\.gitmodules, a \.gitmodules or \.gitattributes, whose content git's fsck judges/],
    ['two lone surrogates', ['system/unsound/a\ud800', 'system/unsound/a\udc00'], /system\/unsound\/a\\ud800, half of a UTF-16 surrogate pair/],
  ]
  it('collect() handing in a document path the twin cannot hold (.., .git, NUL, 300-byte name, 5,000-byte path, absolute, plans/, .gitmodules, lone surrogates): PROVIDER_FAILED naming it and the path, its part kept, the files provider committed, exit 1 (before: PATH_INVALID for the whole snapshot, or left out, or one name twice)', async () => {
    const before = await paths()
    for (const [what, list, said] of unholdable) {
      await writeFile(join(root, 'etc/motd'), `${what}\n`)
      const r = await cli.twinsync(['snapshot', '--root', root, '--repo', cli.twinDir], { env: { TWINSYNC_TEST_UNSOUND: 'collect-paths', ...handing(...list) } })
      assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`)
      assert.match(r.stdout, new RegExp(`error: unsound: The unsound provider failed in collect\\(\\): it returned a document the twin cannot hold: ${said.source}`), `${what}: ${r.stdout}`)
      assert.doesNotMatch(r.stdout + r.stderr, /PATH_INVALID|internal error/, what)
      assert.doesNotMatch(r.stdout + r.stderr, RAW, `${what}: a raw control byte printed`)
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, `${what}\n`, `${what}: the files provider went on`)
      assert.deepEqual(await paths(), before, `${what}: the unsound provider's part kept as it was`)
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'ls-tree', '--name-only', 'HEAD', 'plans/'])).stdout, 'plans/README.md\n')
    }
    await writeFile(join(root, 'etc/motd'), 'unholdable json\n')
    const j = await cli.twinsync(['snapshot', '--json', '--root', root, '--repo', cli.twinDir], { env: { TWINSYNC_TEST_UNSOUND: 'collect-paths', ...handing('system/unsound/a/../b') } })
    assert.equal(j.code, 1, j.stdout + j.stderr)
    const d = json<{ diagnostics: Array<{ code: string; severity: string; provider?: string; summary: string }> }>(j).diagnostics.find((x) => x.provider === 'unsound')
    assert.deepEqual([d?.code, d?.severity], ['PROVIDER_FAILED', 'error'], j.stdout)
    assert.match(d?.summary ?? '', /it returned a document the twin cannot hold: system\/unsound\/a\/\.\.\/b, a \.\. part/)
  })

  it('adopt unsound whose collect() hands in a document path the twin cannot hold: refused with PROVIDER_FAILED naming it and the path, nothing written, exit 2 (before: PATH_INVALID without a next step, GIT_FAILED, an internal error, or adopted in silence)', async () => {
    const before = { head: await head(), paths: await paths(), porcelain: await porcelain() }
    for (const [what, list, said] of unholdable) {
      const r = await cli.twinsync(['adopt', 'unsound', '--root', root, '--repo', cli.twinDir], { env: { TWINSYNC_TEST_UNSOUND: 'collect-paths', TWINSYNC_TEST_UNSOUND_DRIFT: '1', ...handing(...list) } })
      assert.equal(r.code, 2, `${what}: ${r.stdout}${r.stderr}`)
      assert.match(r.stderr, new RegExp(`\\[PROVIDER_FAILED\\] The unsound provider failed in collect\\(\\): it returned a document the twin cannot hold: ${said.source}`), what)
      assert.match(r.stderr, /Next step: A fault in the unsound provider, not in TwinSync: nothing was adopted/, what)
      assert.doesNotMatch(r.stdout + r.stderr, RAW, `${what}: a raw control byte printed`)
      assert.deepEqual({ head: await head(), paths: await paths(), porcelain: await porcelain() }, before, `${what}: the twin as it was`)
    }
  })

  // Session 45: plan and status judged no document path; a plan compared such a provider as
  // usual (exit 0, "In sync"), and its apply ran and named the provider only afterwards (exit 1).
  it('plan and status while a provider hands in a document the twin cannot hold: that provider refused (PROVIDER_FAILED naming it and the path, text and --json), the files provider planned, exit 1; apply refuses before it starts (exit 2)', async () => {
    const env = { TWINSYNC_TEST_UNSOUND: 'collect-paths', ...handing('system/unsound/a/../b') }
    const said = /The unsound provider failed in collect\(\): it returned a document the twin cannot hold: system\/unsound\/a\/\.\.\/b, a \.\. part/
    const before = await head()
    await writeFile(join(root, 'etc/motd'), 'drifted\n')
    try {
      const plan = await cli.twinsync(['plan', '--json', '--root', root, '--repo', cli.twinDir], { env })
      assert.equal(plan.code, 1, plan.stdout + plan.stderr)
      const out = json<{ changes: Array<{ id: string }>; diagnostics: Array<{ code: string; severity: string; provider?: string; summary: string }> }>(plan)
      assert.deepEqual(out.changes.map((c) => c.id), ['files:replace:/etc/motd'], 'the files provider planned')
      const d = out.diagnostics.find((x) => x.provider === 'unsound')
      assert.deepEqual([d?.code, d?.severity], ['PROVIDER_FAILED', 'error'], plan.stdout)
      assert.match(d?.summary ?? '', said)
      const text = await cli.twinsync(['plan', '--root', root, '--repo', cli.twinDir], { env })
      assert.equal(text.code, 1, text.stdout + text.stderr)
      assert.match(text.stdout, new RegExp(`error: unsound: ${said.source}`))
      const status = await cli.twinsync(['status', '--json', '--root', root, '--repo', cli.twinDir], { env })
      assert.equal(status.code, 1, status.stdout + status.stderr)
      const unread = json<{ unread: Array<{ code: string; provider?: string; summary: string }>; changes: Array<{ id: string }> }>(status)
      assert.match(unread.unread.find((x) => x.provider === 'unsound')?.summary ?? '', said, status.stdout)
      assert.deepEqual(unread.changes.map((c) => c.id), ['files:replace:/etc/motd'])
      const statusText = await cli.twinsync(['status', '--root', root, '--repo', cli.twinDir], { env })
      assert.equal(statusText.code, 1, statusText.stdout + statusText.stderr)
      assert.match(statusText.stdout, said)
      assert.doesNotMatch(statusText.stdout, /In sync/)
      const apply = await cli.twinsync(['apply', '--yes', '--root', root, '--repo', cli.twinDir], { env })
      assert.equal(apply.code, 2, apply.stdout + apply.stderr)
      assert.match(apply.stderr, /\[PROVIDER_FAILED\] Nothing was applied: the plan has 1 error\(s\): unsound: The unsound provider failed in collect\(\)/)
      assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'drifted\n', 'nothing applied')
      assert.equal(await head(), before)
    } finally {
      await writeFile(join(root, 'etc/motd'), `${(await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout}`)
    }
  })

  // Session 44: a plan collects but writes no document, so it cannot see a clash of a provider's
  // documents (one path twice, a file and a folder at one path); the apply's checkpoint and its
  // snapshot after refuse that provider's collect, and nothing said so (before session 44 the
  // checkpoint failed whole: PATH_INVALID, nothing applied).
  it('apply while a provider hands in one document path twice: the others applied and recorded, the failure named (text and --json), exit 1', async () => {
    const env = { TWINSYNC_TEST_UNSOUND: 'collect-twice' }
    const said = /error: unsound: The unsound provider failed in collect\(\): it returned the document system\/unsound\/twice twice/
    for (const args of [[], ['--json']]) {
      const before = await paths()
      await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), `applied ${args.length}\n`)
      const r = await cli.twinsync(['apply', '--yes', ...args, '--root', root, '--repo', cli.twinDir], { env })
      assert.equal(r.code, 1, r.stdout + r.stderr)
      if (args.length === 0) {
        assert.match(r.stdout, said)
        assert.match(r.stdout, /\d applied, 0 unchanged, 0 failed, 0 skipped/)
      } else {
        const out = json<{ journal: { diagnostics: Array<{ code: string; severity: string; provider?: string; summary: string }> } }>(r)
        assert.deepEqual(out.journal.diagnostics.filter((d) => d.provider === 'unsound').map((d) => d.code), ['PROVIDER_FAILED'], 'once, not once a snapshot')
      }
      assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), `applied ${args.length}\n`, 'the files provider applied')
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, `applied ${args.length}\n`, 'and recorded')
      assert.deepEqual(await paths(), before, "the unsound provider's part kept")
    }
  })

  it("adopt unsound whose collect() hands in documents outside its part: adopted, and a warning naming the provider and the paths (text, --json; before: left out without a word)", async () => {
    for (const args of [[], ['--json']]) {
      const r = await adopt('collect-not-owned', 'unsound', ...args)
      assert.equal(r.code, 0, r.stdout + r.stderr)
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/unsound.json'])).stdout, '{"drift":true}\n', 'adopted')
      const said = /The unsound provider handed in 2 documents outside its part of the twin: system\/elsewhere\.json \(no provider's\), filesystem\/etc\/motd \(the files provider's\); they were not written/
      if (args.length === 0) assert.match(r.stdout, new RegExp(`warning: unsound: ${said.source}`))
      else {
        const d = json<{ diagnostics?: Array<{ code: string; severity: string; provider?: string; summary: string }> }>(r).diagnostics?.find((x) => x.provider === 'unsound')
        assert.deepEqual([d?.code, d?.severity], ['PROVIDER_FAILED', 'warning'], r.stdout)
        assert.match(d?.summary ?? '', said)
      }
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'ls-tree', '--name-only', 'HEAD', 'system/elsewhere.json'])).stdout, '')
      // The machine as the other cases have it again (they expect `{}` kept).
      assert.equal((await snapshot('')).code, 0)
    }
  })

  // Session 45: an item, provider or domain whose provider's collect failed was an unknown item
  // (ITEM_UNKNOWN "No drift item …"), naming neither the provider nor its failure.
  it("adopt of an item, a provider or a domain whose provider's collect() fails: PROVIDER_FAILED naming the plugin and its failure, exit 2, nothing written (before: ITEM_UNKNOWN)", async () => {
    const before = { head: await head(), paths: await paths(), porcelain: await porcelain() }
    for (const who of ['unsound:set:state', 'unsound', 'startup']) {
      const r = await adopt('folder-over-kept-file', who)
      assert.equal(r.code, 2, r.stdout + r.stderr)
      assert.match(r.stderr, /\[PROVIDER_FAILED\] Nothing was adopted: The unsound provider failed in collect\(\): unsound cannot collect this time/, who)
      assert.match(r.stderr, /Next step: The twin is as it was\. .*A fault in the unsound provider, not in TwinSync/, who)
      const j = await adopt('folder-over-kept-file', who, '--json')
      assert.equal(j.code, 2, j.stdout + j.stderr)
      const e = json<{ error: { code: string; details?: { provider?: string } } }>(j).error
      assert.deepEqual([e.code, e.details?.provider], ['PROVIDER_FAILED', 'unsound'], j.stdout)
      assert.deepEqual({ head: await head(), paths: await paths(), porcelain: await porcelain() }, before, 'the twin as it was')
    }
    // Another provider's item is adopted as before: the failure of one is not everyone's.
    await writeFile(join(root, 'etc/motd'), 'adopted beside a failed provider\n')
    const other = await adopt('folder-over-kept-file', 'files')
    assert.equal(other.code, 0, other.stdout + other.stderr)
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, 'adopted beside a failed provider\n')
  })

  // Session 45: a provider whose twinPaths named the twin's own files (plans/, twin.json),
  // TwinSync's journal or another provider's document loaded as usual (`providers` exit 0).
  it("a provider whose twinPaths name plans/, TwinSync's journal or the apt provider's document is refused when it loads (PROVIDER_FAILED naming it, exit 1 for providers, plan and status); the other plugins run, its part of the twin kept", async () => {
    const cases: Array<[string, RegExp]> = [
      ['plans/', /its twinPaths name plans\/, a path outside system\//],
      ['system/journal/commands.json', /its twinPaths name system\/journal\/commands\.json, which reaches system\/journal\/, TwinSync's own/],
      ['system/packages/', /its twinPaths name system\/packages\/, which reaches system\/packages\/apt\.json, the apt provider's/],
    ]
    const before = { paths: await paths() }
    for (const [path, said] of cases) {
      const env = { TWINSYNC_TEST_UNSOUND_TWINPATHS: JSON.stringify(['system/unsound.json', path]) }
      const listed = await cli.twinsync(['providers', '--json', '--root', root, '--repo', cli.twinDir], { env })
      assert.equal(listed.code, 1, `${path}: ${listed.stdout}${listed.stderr}`)
      const out = json<ProvidersJson>(listed)
      assert.deepEqual(out.providers.filter((p) => p.name.startsWith('unsound')).map((p) => p.name), ['unsound-b'], `${path}: the plugin's other provider loads`)
      assert.ok(out.providers.some((p) => p.name === 'files'), path)
      const d = out.diagnostics.find((x) => x.provider === 'unsound') as { code?: string; severity: string; summary: string } | undefined
      assert.deepEqual([d?.code, d?.severity], ['PROVIDER_FAILED', 'error'], JSON.stringify(out.diagnostics))
      assert.match(d?.summary ?? '', new RegExp(`^The unsound provider of twinsync-plugin-unsound is not loaded: ${said.source}`))
      await writeFile(join(root, 'etc/motd'), `${path}\n`)
      const snap = await cli.twinsync(['snapshot', '--root', root, '--repo', cli.twinDir], { env })
      assert.match(snap.stdout, new RegExp(`error: unsound: The unsound provider of twinsync-plugin-unsound is not loaded: ${said.source}`), `${path}: ${snap.stdout}`)
      assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/motd'])).stdout, `${path}\n`, `${path}: the files provider went on`)
      assert.deepEqual(await paths(), before.paths, `${path}: its part kept`)
      for (const command of ['plan', 'status']) {
        const r = await cli.twinsync([command, '--root', root, '--repo', cli.twinDir], { env })
        assert.equal(r.code, 1, `${command} ${path}: ${r.stdout}${r.stderr}`)
        assert.match(r.stdout, said, `${command} ${path}`)
      }
    }
  })

  it('adopt of a provider whose documents are sound goes through (the drift the refusals above saw is there)', async () => {
    const r = await adopt('', 'unsound')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/unsound.json'])).stdout, '{"drift":true}\n')
    // The machine as the other cases have it again (they expect `{}` kept).
    assert.equal((await snapshot('')).code, 0)
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/unsound.json'])).stdout, '{}\n')
  })
})

/** `twinsync plugins install` takes what npm takes: a tarball path, a directory, a file: URL, a name. */
describe('installing a plugin from a tarball, a directory or a file: URL', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let packs: string
  let tarball: string

  before(async () => {
    cli = await cliSandbox()
    packs = await makeTempDir('packs')
    await runOk(['npm', 'pack', '--pack-destination', packs, '--silent'], { cwd: fixture('twinsync-plugin-demo') })
    tarball = (await readdir(packs)).find((f) => f.endsWith('.tgz')) as string
  })
  after(async () => {
    await cli.cleanup()
    await removeTree(packs)
  })

  const installedDemo = async (): Promise<void> => {
    const r = await cli.twinsync(['providers', '--json'])
    const out = json<ProvidersJson>(r)
    assert.deepEqual(out.providers.filter((p) => p.name === 'demo').map((p) => p.source), ['twinsync-plugin-demo'], r.stderr)
    assert.equal(r.code, 0, JSON.stringify(out.diagnostics))
    const uninstall = await cli.twinsync(['plugins', 'uninstall', 'twinsync-plugin-demo'])
    assert.equal(uninstall.code, 0, uninstall.stderr)
  }

  it('installs ./name.tgz relative to the working directory, then an absolute tarball path', async () => {
    const relative = await cli.twinsync(['plugins', 'install', `./${tarball}`], { cwd: packs })
    assert.equal(relative.code, 0, relative.stderr)
    await installedDemo()
    const absolute = await cli.twinsync(['plugins', 'install', join(packs, tarball)])
    assert.equal(absolute.code, 0, absolute.stderr)
    await installedDemo()
  })

  it('installs a file: URL and a plugin directory', async () => {
    const url = await cli.twinsync(['plugins', 'install', `file://${join(packs, tarball)}`])
    assert.equal(url.code, 0, url.stderr)
    await installedDemo()
    const dir = join(packs, 'twinsync-plugin-demo')
    await cp(fixture('twinsync-plugin-demo'), dir, { recursive: true, filter: (src) => !src.includes('node_modules') })
    const fromDir = await cli.twinsync(['plugins', 'install', dir])
    assert.equal(fromDir.code, 0, fromDir.stderr)
    await installedDemo()
  })

  it('refuses a path that does not exist with a code and the next step (exit 2), never a GitHub lookup', async () => {
    const r = await cli.twinsync(['plugins', 'install', './nowhere-1.0.0.tgz'], { cwd: packs })
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[PLUGIN_SOURCE_MISSING\] \.\/nowhere-1\.0\.0\.tgz: no such plugin tarball or directory/)
    assert.match(r.stderr, /Next step: /)
    assert.doesNotMatch(r.stderr, /github/i)
  })
})
