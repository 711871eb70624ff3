import { strict as assert } from 'node:assert'
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { quoteArg } from '../../core/src/plan/command-text.js'
import { run } from '../bed/index.js'
import { TWINSYNC_BIN, cliSandbox, json, type CliSandbox } from '../support/cli.js'

/** The `twinsync …` command lines a next step gives to paste (between backticks). */
function pasted(nextStep: string): string[] {
  return [...nextStep.matchAll(/`(twinsync [^`]*)`/g)].map((m) => m[1] as string)
}

/** The arguments bash hands `twinsync` for a pasted line. */
async function argvOf(line: string | undefined): Promise<string[]> {
  assert.ok(line !== undefined, 'a command to paste')
  const r = await run(['bash', '-c', `twinsync() { printf '%s\\0' "$@"; }; ${line}`])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.split('\0').slice(0, -1)
}

/** Bad input: a clear message with a stable code and a next step, exit 2, nothing changed on disk. */
describe('twinsync refuses bad input and changes nothing', function () {
  this.timeout(60_000)
  let cli: CliSandbox
  beforeEach(async () => {
    cli = await cliSandbox()
  })
  afterEach(() => cli.cleanup())

  const exists = (p: string) => stat(p).then(() => true, () => false)

  it('a --root that does not exist', async () => {
    const r = await cli.twinsync(['snapshot', '--init', '--root', join(cli.dir, 'no-such-root'), '--repo', cli.twinDir])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[ROOT_NOT_FOUND\]/)
    assert.match(r.stderr, /Next step: /)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
    assert.equal(await exists(cli.twinDir), false)
  })

  it('the same error as JSON with --json', async () => {
    const r = await cli.twinsync(['snapshot', '--root', join(cli.dir, 'no-such-root'), '--repo', cli.twinDir, '--json'])
    assert.equal(r.code, 2)
    const { error } = json<{ error: { code: string; message: string; nextStep: string } }>(r)
    assert.equal(error.code, 'ROOT_NOT_FOUND')
    assert.ok(error.nextStep.length > 0)
  })

  it('a configuration file with an unknown key', async () => {
    await writeFile(cli.configFile, 'repo: /tmp/x\nlimits:\n  logLines: 10\n  colour: blue\n')
    const r = await cli.twinsync(['snapshot', '--init', '--repo', cli.twinDir])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[CONFIG_INVALID\].*"limits\.colour"/)
    assert.equal(await exists(cli.twinDir), false)
  })

  it('a configuration section for a provider that does not exist', async () => {
    await writeFile(cli.configFile, 'dnf:\n  enabled: true\n')
    const r = await cli.twinsync(['config'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[CONFIG_INVALID\].*unknown key "dnf"/)
  })

  it('a --repo that is a file', async () => {
    const file = join(cli.dir, 'not-a-dir')
    await writeFile(file, 'keep me\n')
    const r = await cli.twinsync(['init', '--repo', file])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[REPO_NOT_DIRECTORY\]/)
    assert.equal(await readFile(file, 'utf8'), 'keep me\n')
  })

  it('a snapshot before init says how to create the twin', async () => {
    const r = await cli.twinsync(['snapshot', '--repo', cli.twinDir])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[REPO_NOT_INITIALIZED\][\s\S]*twinsync init/)
    assert.equal(await exists(cli.twinDir), false)
  })

  // A run's places named with a space, a quote and `$HOME`: a next step naming them must quote them for a shell.
  const oddPlaces = (twin: string) => ({ root: join(cli.dir, 'a root'), repo: join(cli.dir, twin), config: join(cli.dir, "it's $HOME conf.yaml") })

  // Session 41: next steps named --root and --repo but not --config, so a pasted one ran with the
  // default configuration (other providers, other settings) or, under sudo, root's.
  it('a next step names the run\'s --root, --repo and --config, quoted for a shell', async () => {
    const { root, repo, config } = oddPlaces('no twin')
    await mkdir(root)
    await writeFile(config, '{}\n')
    const r = await cli.twinsync(['snapshot', '--root', root, '--repo', repo, '--config', config, '--json'])
    assert.equal(r.code, 2)
    const { error } = json<{ error: { code: string; nextStep: string } }>(r)
    assert.equal(error.code, 'REPO_NOT_INITIALIZED')
    const [init] = pasted(error.nextStep)
    assert.deepEqual(await argvOf(init), ['init', '--root', root, '--repo', repo, '--config', config])
    // Pasted as it is, it makes that twin.
    const made = await run(['bash', '-c', `twinsync() { node ${quoteArg(TWINSYNC_BIN)} "$@"; }; ${init}`], { env: cli.env() })
    assert.equal(made.code, 0, made.stderr)
    assert.equal(await exists(join(repo, 'twin.json')), true)
    // plan --out's line to apply the plan it wrote names the same (before session 41: `twinsync apply FILE` alone).
    const out = join(cli.dir, 'my plan.json')
    const planned = await cli.twinsync(['plan', '--out', out, '--root', root, '--repo', repo, '--config', config])
    assert.equal(planned.code, 0, planned.stderr)
    const applyLine = /apply it with: (twinsync .*)$/m.exec(planned.stdout)?.[1]
    assert.deepEqual(await argvOf(applyLine), ['apply', out, '--root', root, '--repo', repo, '--config', config])

    // Refused before any container (plan-choice.ts): a relative plan file is named by its absolute path.
    const choice = await cli.twinsync(['apply', 'plan.json', '--from', 'HEAD', '--repo', repo, '--config', config, '--json'], { cwd: cli.dir })
    assert.equal(choice.code, 2)
    const [plan, apply] = pasted(json<{ error: { nextStep: string } }>(choice).error.nextStep)
    assert.deepEqual(await argvOf(plan), ['plan', '--from', 'HEAD', '--out', join(cli.dir, 'plan.json'), '--repo', repo, '--config', config])
    assert.deepEqual(await argvOf(apply), ['apply', join(cli.dir, 'plan.json'), '--repo', repo, '--config', config])
  })

  // Session 42: many next steps named a bare `twinsync status`, `push --retry`, `github link …`:
  // pasted, they acted on the default twin and configuration, not the run's.
  it('the next steps of discard, adopt, push, pull and remote show name the run\'s --root, --repo and --config', async () => {
    const { root, repo, config } = oddPlaces("my 'twin'")
    await mkdir(root)
    await writeFile(config, '{}\n')
    const flags = ['--root', root, '--repo', repo, '--config', config]
    assert.equal((await cli.twinsync(['init', ...flags])).code, 0)
    const lines: string[] = []
    const refused = async (args: string[], code: string) => {
      const r = await cli.twinsync([...args, ...flags, '--json'])
      const { error } = json<{ error: { code: string; nextStep: string } }>(r)
      assert.equal(error.code, code, r.stdout)
      lines.push(...pasted(error.nextStep))
    }
    await refused(['discard', 'nosuch:item'], 'ITEM_UNKNOWN') // `twinsync status`, `twinsync adopt ITEM`
    await refused(['push', '--retry'], 'REMOTE_NOT_CONFIGURED') // github link, github create, remote set
    await refused(['pull', '--no-apply'], 'REMOTE_NOT_CONFIGURED')
    const shown = await cli.twinsync(['remote', 'show', ...flags]) // render.ts: "No mirror linked. Link one with …"
    assert.equal(shown.code, 0, shown.stderr)
    lines.push(...pasted(shown.stdout))
    assert.ok(lines.length >= 9, lines.join('\n'))
    const commands = new Set<string>()
    for (const line of lines) {
      const argv = await argvOf(line)
      assert.deepEqual(argv.slice(-6), flags, line)
      commands.add(argv.slice(0, -6).join(' '))
    }
    assert.deepEqual([...commands].sort(), ['adopt ITEM', 'github create', 'github link OWNER/REPO', 'remote set URL', 'status'])
  })

  // Session 42: a provider's next steps (ProviderContext.twinsync, which the core fills from the
  // run's RunTarget): the files provider's outOfScope (the change id, a path with a space, in the
  // line), systemd's load, and the SDK's startupTextNotUtf8 (cron's load). Before, each named a
  // bare `twinsync discard ...` (files: no id at all).
  it('the next steps the plugins give (files, systemd, cron through the SDK) name the run\'s --root, --repo and --config', async () => {
    const { root, repo, config } = oddPlaces("my 'twin'")
    await mkdir(join(root, 'etc/systemd/system'), { recursive: true }) // systemd detected
    await mkdir(join(root, 'etc/my dir'))
    await writeFile(join(root, 'etc/my dir/x.txt'), 'hi\n')
    await writeFile(join(root, 'etc/crontab'), 'SHELL=/bin/sh\n') // cron detected
    await writeFile(config, '{}\n')
    const flags = ['--root', root, '--repo', repo, '--config', config]
    assert.equal((await cli.twinsync(['init', ...flags])).code, 0)
    const snapshot = await cli.twinsync(['snapshot', ...flags])
    assert.equal(snapshot.code, 0, snapshot.stderr)
    await writeFile(join(repo, 'system/services/units.json'), '{"units": {}, "unit": {"cron.service": {"state": "disabled"}}}\n')
    await writeFile(join(repo, 'filesystem/etc/my dir/x.txt'), Buffer.from('a\xffb\n', 'latin1'))
    await mkdir(join(repo, 'filesystem/var/spool/cron/crontabs'), { recursive: true })
    await writeFile(join(repo, 'filesystem/var/spool/cron/crontabs/root'), Buffer.from('# \xff\n', 'latin1'))
    const plan = await cli.twinsync(['plan', ...flags])
    const lines = pasted(plan.stdout + plan.stderr)
    const commands: string[] = []
    for (const line of lines) {
      const argv = await argvOf(line)
      assert.deepEqual(argv.slice(-6), flags, line)
      commands.push(argv.slice(0, -6).join(' '))
    }
    assert.deepEqual(commands.sort(), ['discard files:replace:/etc/my dir/x.txt', 'discard services', 'discard startup'], plan.stdout + plan.stderr)
  })

  // Session 42: CONFIG_INVALID named a bare `twinsync config`, which (pasted after a run with
  // --config) printed another configuration, the default one. The file that did not load is its
  // --config; --root and --repo are the flags given (known before any configuration is).
  it('CONFIG_INVALID names `twinsync config` with the file that did not load and the --root and --repo given', async () => {
    const root = join(cli.dir, 'a root')
    const repo = join(cli.dir, "my 'twin'")
    await mkdir(root)
    const core = join(cli.dir, "it's $HOME core.yaml") // a core setting: refused as the file loads
    const section = join(cli.dir, "it's $HOME files.yaml") // a provider's section: refused by the registry, with the run's target
    await writeFile(core, 'limits:\n  logLines: many\n')
    await writeFile(section, 'files:\n  nosuch: 1\n')
    assert.equal((await cli.twinsync(['init', '--root', root, '--repo', repo])).code, 0)
    for (const config of [core, section]) {
      const r = await cli.twinsync(['status', '--root', root, '--repo', repo, '--config', config, '--json'])
      assert.equal(r.code, 2, r.stdout + r.stderr)
      const { error } = json<{ error: { code: string; nextStep: string } }>(r)
      assert.equal(error.code, 'CONFIG_INVALID', r.stdout)
      const [line] = pasted(error.nextStep)
      assert.deepEqual(await argvOf(line), ['config', '--root', root, '--repo', repo, '--config', config], error.nextStep)
    }
  })

  it('an unknown command or flag', async () => {
    const command = await cli.twinsync(['snapshott'])
    assert.equal(command.code, 2)
    assert.match(command.stderr, /\[USAGE\]/)
    const flag = await cli.twinsync(['snapshot', '--colour'])
    assert.equal(flag.code, 2)
    assert.match(flag.stderr, /\[USAGE\] Nonexistent flag: --colour/)
    assert.deepEqual(await readdir(cli.dir), ['config.yaml'])
  })
})

describe('twinsync describe, config and --version', function () {
  this.timeout(60_000)
  let cli: CliSandbox
  before(async () => {
    cli = await cliSandbox()
  })
  after(() => cli.cleanup())

  it('describes commands, exit codes and error codes', async () => {
    const r = await cli.twinsync(['describe'])
    assert.equal(r.code, 0)
    const manifest = json<{ commands: Array<{ id: string; aliases: string[] }>; exitCodes: Record<string, string>; errorCodes: Record<string, string> }>(r)
    const ids = manifest.commands.map((c) => c.id)
    for (const id of ['init', 'snapshot', 'providers', 'config', 'describe']) assert.ok(ids.includes(id), id)
    assert.ok(ids.includes('push') && ids.includes('pull'), 'push and pull')
    assert.deepEqual(Object.keys(manifest.exitCodes), ['0', '1', '2'])
    assert.ok('ROOT_NOT_FOUND' in manifest.errorCodes && 'CONFIG_INVALID' in manifest.errorCodes)
  })

  it("lists each provider's own codes with its provider and plugin (describe, providers --json and --codes), and TwinSync's own when no plugin loads", async () => {
    const r = await cli.twinsync(['describe'])
    assert.equal(r.code, 0, r.stderr)
    const manifest = json<{ errorCodes: Record<string, string>; providerCodes: Record<string, { description: string; provider: string; plugin: string }>; diagnostics?: unknown }>(r)
    assert.deepEqual({ ...manifest.providerCodes.FILES_MANIFEST_INVALID, description: undefined }, { description: undefined, provider: 'files', plugin: '@twinsync/plugin-files' })
    assert.match(manifest.providerCodes.APT_VERSION_DIFFERS?.description ?? '', /pinVersion/)
    assert.equal(manifest.providerCodes.RC_LOCAL_MODE_ADJUSTED?.provider, 'autostart')
    assert.equal(manifest.diagnostics, undefined)
    assert.deepEqual(Object.keys(manifest.providerCodes).filter((c) => c in manifest.errorCodes), [], 'no code in both')
    const listed = await cli.twinsync(['providers', '--json'])
    const cron = json<{ providers: Array<{ name: string; codes: Record<string, string> }> }>(listed).providers.find((p) => p.name === 'cron')
    assert.ok(cron !== undefined && Object.keys(cron.codes).length > 0 && Object.keys(cron.codes).every((c) => c.startsWith('CRON_') && manifest.providerCodes[c]?.provider === 'cron'), JSON.stringify(cron))
    const text = await cli.twinsync(['providers', '--codes'])
    assert.match(text.stdout, /\nCodes of the systemd provider \(@twinsync\/plugin-systemd\):\n  SYSTEMD_\w+  \S/)
    assert.doesNotMatch((await cli.twinsync(['providers'])).stdout, /Codes of/, 'without --codes, the table alone')
    await writeFile(cli.configFile, 'providers: [\n')
    try {
      const refused = await cli.twinsync(['describe'])
      assert.equal(refused.code, 0, `a configuration no plugin loads under: the manifest of the CLI, exit 0, a warning (${refused.stderr})`)
      const partial = json<{ errorCodes: Record<string, string>; providerCodes: Record<string, unknown>; diagnostics: Array<{ severity: string; code: string; summary: string }> }>(refused)
      assert.ok('ROOT_NOT_FOUND' in partial.errorCodes, "TwinSync's own codes are still listed")
      assert.deepEqual(partial.providerCodes, {})
      assert.deepEqual(partial.diagnostics.map((d) => [d.severity, d.code]), [['warning', 'CONFIG_UNREADABLE']])
      assert.match(partial.diagnostics[0]?.summary ?? '', /^No provider was loaded, so no provider's codes are listed: /)
      assert.match(refused.stderr, /^warning: No provider was loaded, so no provider's codes are listed: /m)
    } finally {
      await writeFile(cli.configFile, '{}\n')
    }
  })

  it('prints the effective configuration with defaults', async () => {
    await writeFile(cli.configFile, 'limits:\n  logLines: 42\n')
    const r = await cli.twinsync(['config', '--json', '--repo', cli.twinDir])
    assert.equal(r.code, 0, r.stderr)
    const config = json<{ repo: string; repoSource: string; configFile: string; limits: { logLines: number; maxFileSize: number } }>(r)
    assert.equal(config.repo, cli.twinDir)
    assert.equal(config.repoSource, 'flag')
    assert.equal(config.configFile, cli.configFile)
    assert.equal(config.limits.logLines, 42)
    assert.equal(config.limits.maxFileSize, 1024 * 1024)
  })

  it('prints its version', async () => {
    const r = await cli.twinsync(['--version'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^twinsync\/\d+\.\d+\.\d+ linux-/)
  })
})
