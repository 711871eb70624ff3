import { strict as assert } from 'node:assert'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, startTmux, type Rootfs, type TmuxSession } from '../bed/index.js'
import { cliSandbox, commitTwin, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

const exists = (path: string) => access(path).then(() => true, () => false)

/**
 * Session 20: a change that runs code as root or opens a login (a cron file here) was applied after
 * a plain y/N, or by `--yes` alone, like any other. Now both front ends name the count and each
 * reason and want "yes" typed; `--yes` alone is refused (HIGH_RISK_NOT_ACCEPTED, exit 2, nothing
 * changed) and needs `--accept-high-risk`; without a terminal it never waits for an answer. The
 * real binary on a Debian root, the CLI and the TUI in tmux (80x24).
 */
describe('high-risk changes are accepted by name: a typed "yes" or --yes --accept-high-risk (CLI and TUI, tmux, Debian root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  let tmux: TmuxSession | undefined
  const args = (...a: string[]) => [...a, '--root', rootfs.dir, '--repo', cli.twinDir]
  const env = () => ({ HOME: cli.dir, LANG: 'C.UTF-8', TERM: 'xterm-256color', TWINSYNC_DATA_DIR: cli.dataDir, TWINSYNC_CONFIG: cli.configFile })
  const CRON = '* * * * * root touch /tmp/pwned\n'
  let motd: string

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    assert.equal((await cli.twinsync(args('snapshot', '--init'))).code, 0)
    motd = await readFile(join(rootfs.dir, 'etc/motd'), 'utf8')
    // What a pull brings: a cron file that runs as root, and an ordinary change beside it.
    await mkdir(join(cli.twinDir, 'filesystem/etc/cron.d'), { recursive: true })
    await writeFile(join(cli.twinDir, 'filesystem/etc/cron.d/evil'), CRON)
    await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'From the mirror\n')
    await commitTwin(cli.twinDir, 'from the mirror')
  })
  after(async () => {
    await tmux?.close()
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  const untouched = async () => {
    assert.equal(await exists(join(rootfs.dir, 'etc/cron.d/evil')), false, 'the cron file was written')
    assert.equal(await readFile(join(rootfs.dir, 'etc/motd'), 'utf8'), motd, 'the motd changed')
  }

  it('apply --yes alone is refused before anything runs: HIGH_RISK_NOT_ACCEPTED, exit 2, the reason and the next step; nothing changed', async () => {
    const r = await cli.twinsync(args('apply', '--yes'))
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stdout, /create \/etc\/cron\.d\/evil  \[high risk\]\n +high risk: a system cron file: its jobs run as root/)
    assert.match(r.stderr, /HIGH_RISK_NOT_ACCEPTED/)
    assert.match(r.stderr, /1 change of the plan runs code as root or opens a login, and was not accepted: nothing was applied/)
    assert.match(r.stderr, /--yes --accept-high-risk/)
    await untouched()
    const j = await cli.twinsync(args('apply', '--yes', '--json'))
    assert.equal(j.code, 2)
    assert.match(j.stdout + j.stderr, /"id": "files:create:\/etc\/cron\.d\/evil"/)
    await untouched()
  })

  it('without a terminal (a scheduled run) apply never waits: CONFIRMATION_REQUIRED names --yes --accept-high-risk', async () => {
    const r = await cli.twinsync(args('apply'))
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, /CONFIRMATION_REQUIRED/)
    assert.match(r.stderr, /1 change runs code as root or opens a login\), then run `.*apply --yes --accept-high-risk/)
    await untouched()
  })

  it('the CLI on a terminal names the count and the reason and wants "yes" typed: a plain y does not apply', async () => {
    tmux = await startTmux(['node', TWINSYNC_BIN, ...args('apply')], { cols: 80, rows: 24, env: env() })
    const asked = await tmux.waitFor('Type "yes" to apply:', 120_000)
    assert.match(asked, /1 of these changes runs code as root or lets someone log in:/)
    assert.match(asked, /create \/etc\/cron\.d\/evil: a system cron file/i)
    await tmux.send('y')
    await tmux.send('Enter')
    await tmux.waitFor('Not applied; nothing was changed.')
    await tmux.waitForExit()
    await tmux.close()
    tmux = undefined
    await untouched()
  })

  it('the TUI says the same before its question; y alone answers nothing, typed "yes" applies both', async () => {
    tmux = await startTmux(['node', TWINSYNC_BIN, ...args('tui')], { cols: 100, rows: 30, env: env() })
    await tmux.waitFor('Main menu', 30_000)
    await tmux.send('3')
    await tmux.waitFor('❯ 3. Pull & apply')
    await tmux.send('Enter')
    await tmux.waitFor('Plan: 2 changes', 120_000)
    const asked = await openQuestion(tmux)
    assert.match(asked, /1 of these changes runs code as root or lets someone log in:/)
    assert.match(asked, /create \/etc\/cron\.d\/evil: a system cron file/i)
    await typeAnswer(tmux, 'y')
    await tmux.send('Enter')
    // "y" then Enter is not "yes": back to the summary, nothing applied.
    await tmux.waitFor('Apply these changes… (2 to apply)')
    await untouched()
    await openQuestion(tmux)
    await typeAnswer(tmux, 'yes')
    await tmux.send('Enter')
    const done = await tmux.waitFor(/\d+ applied, \d+ unchanged, \d+ failed, \d+ skipped/, 300_000)
    assert.match(done, /2 applied, 0 unchanged, 0 failed, 0 skipped/)
    await tmux.send('Enter')
    await tmux.waitFor('Main menu')
    await tmux.send('q')
    assert.equal(await tmux.waitForExit(), 0)
    assert.equal(await readFile(join(rootfs.dir, 'etc/cron.d/evil'), 'utf8'), CRON)
    assert.equal(await readFile(join(rootfs.dir, 'etc/motd'), 'utf8'), 'From the mirror\n')
  })
})

/**
 * Presses `a` on the plan's summary until its question shows, and returns the screen. As with the
 * answer below, ink attaches the summary's key handler a moment after drawing it: back from a "y"
 * that answered nothing, CI's loaded run (session 34) drew the summary, and the `a` typed as it
 * appeared reached no handler. An `a` that a slow handler took into the question after all is
 * erased, so the answer starts empty.
 */
async function openQuestion(tmux: TmuxSession): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    await tmux.send('a')
    try {
      await tmux.waitFor('Type yes and Enter to apply', 5_000)
      break
    } catch (error) {
      if (attempt === 3) throw error
    }
  }
  for (let erased = 0; (await tmux.screen()).includes('Enter to apply: a'); erased++) {
    if (erased === 50) throw new Error(`a stray "a" in the answer could not be erased:\n${await tmux.screen()}`)
    if (erased === 0) await tmux.send('BSpace')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return tmux.screen()
}

/**
 * Types the answer into the TUI's question and waits until the screen shows it. ink attaches a
 * new screen's key handler a moment after drawing it: on a loaded machine (CI's run, session 20)
 * the first keys typed as the question appeared reached no handler and were lost. A first key
 * that is not echoed is typed again; the rest go once it is.
 */
async function typeAnswer(tmux: TmuxSession, word: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await tmux.type(word.slice(0, 1))
    try {
      await tmux.waitFor(`Enter to apply: ${word.slice(0, 1)}`, 5_000)
      break
    } catch (error) {
      if (attempt === 3) throw error
    }
  }
  await tmux.type(word.slice(1))
  await tmux.waitFor(`Enter to apply: ${word}`)
}
