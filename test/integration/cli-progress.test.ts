import { strict as assert } from 'node:assert'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, run, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

/** A line per domain as it is collected, on a terminal only: plan and status under a pseudo-terminal (script(1)), then on a pipe and with --json. */
describe('CLI progress on a terminal, nothing on a pipe or with --json (Debian root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const args = (...a: string[]) => [...a, '--root', rootfs.dir, '--repo', cli.twinDir]
  const env = () => ({ HOME: cli.dir, LANG: 'C.UTF-8', TWINSYNC_DATA_DIR: cli.dataDir, TWINSYNC_CONFIG: cli.configFile })
  /** The command under a pseudo-terminal: stdout and stderr both go to it, as a person sees them. */
  const onTerminal = async (...a: string[]) => {
    const command = ['node', TWINSYNC_BIN, ...args(...a)].map((s) => `'${s}'`).join(' ')
    const r = await run(['script', '-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env() }, timeoutMs: 120_000 })
    return { ...r, screen: r.stdout.replace(/\r\n/g, '\n') }
  }
  const PROGRESS = /^ {2}(files|apt|systemd) +(collected|not-detected|failed)$/m

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    assert.equal((await cli.twinsync(args('snapshot', '--init'))).code, 0)
    await writeFile(join(rootfs.dir, 'etc/motd'), 'changed on the machine\n')
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('plan: progress per domain, then the clean summary', async () => {
    const r = await onTerminal('plan')
    assert.equal(r.code, 0, r.screen)
    assert.match(r.screen, PROGRESS, r.screen)
    for (const name of ['files', 'apt', 'systemd']) assert.match(r.screen, new RegExp(`^ {2}${name} +collected$`, 'm'), r.screen)
    // the progress comes first, the plan after it, and the plan is exactly what a pipe gets
    const lastProgress = Math.max(...[...r.screen.matchAll(new RegExp(PROGRESS.source, 'gm'))].map((m) => m.index ?? 0))
    const piped = await cli.twinsync(args('plan'))
    assert.equal(piped.code, 0, piped.stderr)
    assert.doesNotMatch(piped.stdout + piped.stderr, PROGRESS)
    assert.match(piped.stdout, /\/etc\/motd/)
    assert.ok(r.screen.indexOf(piped.stdout.trim().split('\n')[0] as string) > lastProgress, r.screen)
    assert.ok(r.screen.trimEnd().endsWith(piped.stdout.trimEnd()), `the terminal ends with the summary:\n${r.screen}`)
  })

  it('status on a terminal shows progress; --json on a terminal does not', async () => {
    const status = await onTerminal('status')
    assert.match(status.screen, PROGRESS, status.screen)
    const j = await onTerminal('plan', '--json')
    assert.doesNotMatch(j.screen, PROGRESS, j.screen)
    assert.ok(Array.isArray(JSON.parse(j.screen).changes), j.screen)
    const piped = await cli.twinsync(args('status', '--json'))
    assert.doesNotMatch(piped.stderr, PROGRESS)
    assert.equal(json<{ drift: boolean }>(piped).drift, true)
  })
})
