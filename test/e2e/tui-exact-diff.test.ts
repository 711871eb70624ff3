import { strict as assert } from 'node:assert'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, runOk, startGitRemote, startTmux, type GitRemote, type Rootfs, type TmuxSession } from '../bed/index.js'
import { cliSandbox, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

const NGINX_BEFORE = 'user www-data;\n\nhttp {\n\tsendfile on;\n\ttcp_nopush on;\n}\n'
const NGINX_AFTER = 'user www-data;\n\nhttp {\n\tsendfile off;\n\ttcp_nopush on;\n}\n'

/**
 * The real binary's control panel in a terminal (tmux, 80x24): a tab-indented nginx config's
 * change, every character on screen; then Push snapshot sends the snapshots to a mirror (a git
 * remote behind a token) and says so.
 */
describe('the control panel shows a tab-indented diff exactly, and pushes (tmux, Debian root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  let tmux: TmuxSession | undefined
  let remote: GitRemote
  const TOKEN = 'tok_tui_exact_diff_push'
  const env = { GITHUB_TOKEN: TOKEN, GIT_TERMINAL_PROMPT: '0' }
  const args = (...a: string[]) => [...a, '--root', rootfs.dir, '--repo', cli.twinDir]

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    await mkdir(join(rootfs.dir, 'etc/nginx'), { recursive: true })
    await writeFile(join(rootfs.dir, 'etc/nginx/nginx.conf'), NGINX_BEFORE)
    assert.equal((await cli.twinsync(args('snapshot', '--init'))).code, 0)
    await writeFile(join(rootfs.dir, 'etc/nginx/nginx.conf'), NGINX_AFTER)
    const second = await cli.twinsync(args('snapshot'))
    assert.equal(second.code, 0, second.stderr)
    // A mirror linked after the snapshots: they wait to be pushed.
    remote = await startGitRemote({ token: TOKEN })
    const set = await cli.twinsync(args('remote', 'set', await remote.createBareRepo('twin')), { env })
    assert.equal(set.code, 0, set.stderr)
  })
  after(async () => {
    await tmux?.close()
    await remote?.close()
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('History → the snapshot: "sendfile on;" and "sendfile off;" whole, tabs expanded', async () => {
    tmux = await startTmux(['node', TWINSYNC_BIN, ...args('tui')], {
      cols: 80,
      rows: 24,
      env: { HOME: cli.dir, LANG: 'C.UTF-8', TERM: 'xterm-256color', TWINSYNC_DATA_DIR: cli.dataDir, TWINSYNC_CONFIG: cli.configFile, ...env },
    })
    await tmux.waitFor('Main menu', 30_000)
    await tmux.send('4')
    await tmux.waitFor('❯ 4. History')
    await tmux.send('Enter')
    await tmux.waitFor(/\d+ shown/, 30_000)
    await tmux.send('Enter')
    const screen = await tmux.waitFor('sendfile off;', 30_000)
    assert.match(screen, /^ {6}- {8}sendfile on;$/m, screen)
    assert.match(screen, /^ {6}\+ {8}sendfile off;$/m, screen)
    assert.match(screen, /^ {7} {8}tcp_nopush on;$/m, screen)
    await tmux.send('Escape')
    await tmux.send('Escape')
    await tmux.waitFor('Main menu')
  })

  it('Push snapshot: nothing new to commit, the waiting snapshots go to the mirror, and it says so', async () => {
    assert.ok(tmux !== undefined, 'the panel from the test before')
    await tmux.send('2')
    await tmux.waitFor('❯ 2. Push snapshot')
    await tmux.send('Enter')
    await tmux.waitFor('Take a snapshot now?', 30_000)
    await tmux.send('y')
    const done = await tmux.waitFor(/Pushed \d+ snapshot\(s\)/, 60_000)
    assert.doesNotMatch(done, /not pushed/, done)
    const local = (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
    const mirrored = (await runOk(['git', '-C', remote.repoPath('twin'), 'rev-parse', 'main'])).stdout.trim()
    assert.equal(mirrored, local, 'the mirror has the twin\'s last snapshot')
    await tmux.send('Enter')
    await tmux.waitFor('Main menu')
    await tmux.send('q')
  })
})
