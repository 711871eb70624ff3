import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, run, type Rootfs } from '../bed/index.js'
import { cliSandbox, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

/** Ctrl-C during an apply: the step under way finishes, nothing new starts, the journal says so. */
describe('interrupting an apply', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    const r = await cli.twinsync(['snapshot', '--init', '--root', rootfs.dir, '--repo', cli.twinDir])
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('stops between steps on SIGINT, lets the running step end, and records it in the journal', async () => {
    const marker = `twinsync-interrupt-${process.pid}`
    await writeTwinFile(cli.twinDir, 'plans/slow.yaml', `actions:\n  - run: [sh, -c, "sleep 3; touch /root/${marker}"]\n    phase: before\n    description: Slow first step\n`)
    await writeTwinFile(cli.twinDir, 'filesystem/etc/motd', 'Must not be written\n')
    const before = await readFile(join(rootfs.dir, 'etc/motd'), 'utf8')

    const child = spawn('node', [TWINSYNC_BIN, 'apply', '--yes', '--accept-high-risk', '--root', rootfs.dir, '--repo', cli.twinDir], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cli.dir, LANG: 'C.UTF-8', TWINSYNC_DATA_DIR: cli.dataDir, TWINSYNC_CONFIG: cli.configFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))

    // Wait until the slow step runs, then press "Ctrl-C" once.
    const deadline = Date.now() + 60_000
    while ((await run(['pgrep', '-f', `sleep 3; touch /root/${marker}`])).code !== 0) {
      assert.ok(Date.now() < deadline, `the slow step never started:\n${stdout}\n${stderr}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill('SIGINT')
    const code = await exited

    assert.equal(code, 1, `${stdout}\n${stderr}`)
    assert.match(stderr, /Stopping after the steps under way/)
    assert.ok(stdout.includes(`  applied    run sh -c 'sleep 3; touch /root/${marker}'\n`), 'the step under way ran to its end')
    assert.match(stdout, /^ {2}skipped {4}Replace \/etc\/motd: not started: the apply was interrupted$/m)
    assert.match(stdout, /The apply was interrupted; the journal says what was done\./)
    assert.equal(await readFile(join(rootfs.dir, 'etc/motd'), 'utf8'), before, 'no file was written after Ctrl-C')
    assert.equal((await run(['test', '-e', join(rootfs.dir, 'root', marker)])).code, 0)
    const journals = (await readdir(join(cli.twinDir, 'system/journal'))).filter((f) => f.startsWith('apply-'))
    const journal = JSON.parse(await readFile(join(cli.twinDir, 'system/journal', journals[0] as string), 'utf8'))
    assert.equal(journal.interrupted, true)
    assert.deepEqual(journal.counts, { applied: 1, unchanged: 0, failed: 0, skipped: 1 })
  })
})
