import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { appendFile, chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync, realpathSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { freshRootfs, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, startTmux, type Rootfs, type RunResult, type TmuxSession } from '../bed/index.js'
import { TWINSYNC_BIN } from '../support/cli.js'

/**
 * A twin taken by a user who is not root (the README's `~/.local/share/twinsync/twin`), of a
 * root with root-only files, other users' private homes and root's crontab spool. Session 19:
 * such a run failed the files, cron and autostart parts whole (EACCES on /root/.bash_aliases,
 * the spool, /root/.config), so the user's twin had none of their own files. Now: the running
 * user's own home alone, every root-only path said once and kept unknown, users' crontabs kept
 * as the last snapshot recorded them.
 */
describe('a snapshot by a user who is not root', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const UID = 1000
  let rootfs: Rootfs
  let home: string
  let twin: string

  /** twinsync as uid 1000, with its own HOME (the code caches, the config). */
  const asUser = (args: string[]): Promise<RunResult> =>
    run(['setpriv', `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', process.execPath, TWINSYNC_BIN, ...args, '--root', rootfs.dir, '--repo', twin], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, LANG: 'C.UTF-8', TWINSYNC_CONFIG: join(home, 'config.yaml') },
      timeoutMs: 180_000,
    })
  const tracked = async (): Promise<string[]> => (await runOk(['git', '-c', `safe.directory=${twin}`, '-C', twin, 'ls-files'])).stdout.split('\n').filter(Boolean)
  /** twinsync as root on the user's twin: as `sudo` runs it (SUDO_UID, SUDO_GID, SUDO_USER: the user's), or a root shell's (none). */
  const asRoot = (args: string[], sudo: boolean): Promise<RunResult> =>
    run([process.execPath, TWINSYNC_BIN, ...args, '--root', rootfs.dir, '--repo', twin], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, LANG: 'C.UTF-8', TWINSYNC_CONFIG: join(home, 'config.yaml'), ...(sudo ? { SUDO_UID: String(UID), SUDO_GID: String(UID), SUDO_USER: 'ann' } : {}) },
      timeoutMs: 180_000,
    })
  /** Every entry of the twin (.git included) whose owner is not the user. */
  const notTheUsers = async (): Promise<string[]> => (await runOk(['find', twin, '!', '-uid', String(UID), '-printf', '%P %u\n'])).stdout.split('\n').filter(Boolean)

  before(async () => {
    rootfs = await freshRootfs()
    const r = rootfs.dir
    // The user's way to the root, the code and its own folders (a test temp folder is 0700).
    // Only the test's own folders below the temp folder get o+x: never /tmp itself (a first
    // version set every ancestor to 0755 and took /tmp's sticky, world-writable mode away).
    const top = realpathSync(tmpdir())
    assert.ok(r.startsWith(`${top}/`), `${r} is not below ${top}`)
    for (let at = r; at !== top && at.startsWith(`${top}/`); at = dirname(at)) await chmod(at, (statSync(at).mode & 0o7777) | 0o005)
    await appendFile(join(r, 'etc/passwd'), `ann:x:${UID}:${UID}:Ann:/home/ann:/bin/bash\nbob:x:1001:1001:Bob:/home/bob:/bin/bash\n`)
    await appendFile(join(r, 'etc/group'), `ann:x:${UID}:\nbob:x:1001:\n`)
    for (const [user, id] of [['ann', UID], ['bob', 1001]] as const) {
      await mkdir(join(r, 'home', user, '.config/app'), { recursive: true })
      await writeFile(join(r, 'home', user, '.config/app/app.conf'), `owner = ${user}\n`)
      await mkdir(join(r, 'home', user, '.config/autostart'), { recursive: true })
      await writeFile(join(r, 'home', user, '.config/autostart/notes.desktop'), `[Desktop Entry]\nType=Application\nName=Notes of ${user}\nExec=/usr/bin/true\n`)
      await runOk(['chown', '-R', `${id}:${id}`, join(r, 'home', user)])
      await chmod(join(r, 'home', user), 0o700)
    }
    await mkdir(join(r, 'root/.config/app'), { recursive: true })
    await writeFile(join(r, 'root/.config/app/app.conf'), 'owner = root\n')
    await chmod(join(r, 'root'), 0o700)
    // root's crontab in Debian's spool (root:crontab 1730; the files 0600).
    await mkdir(join(r, 'var/spool/cron/crontabs'), { recursive: true })
    await chmod(join(r, 'var/spool/cron/crontabs'), 0o1730)
    await writeFile(join(r, 'var/spool/cron/crontabs/root'), '17 3 * * * /usr/local/bin/backup\n', { mode: 0o600 })
    await writeFile(join(r, 'etc/crontab'), 'SHELL=/bin/sh\n25 6 * * * root run-parts /etc/cron.daily\n')
    await chmod(join(r, 'etc/shadow'), 0o640)

    home = await makeTempDir('non-root-home')
    await chmod(home, 0o755)
    await chown(home, UID, UID)
    await writeFile(join(home, 'config.yaml'), '{}\n')
    await chown(join(home, 'config.yaml'), UID, UID)
    twin = join(home, 'twin')
  })
  const tmpMode = statSync(tmpdir()).mode & 0o7777
  after(async () => {
    await rootfs?.cleanup()
    if (home !== undefined) await removeTree(home)
    assert.equal((statSync(tmpdir()).mode & 0o7777).toString(8), tmpMode.toString(8), 'the temp folder\'s own mode is left as it was')
  })

  it('records the user\'s own home and readable /etc, says the root-only paths once, and takes no other home', async () => {
    const r = await asUser(['snapshot', '--init'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.doesNotMatch(r.stderr, /PROVIDER_FAILED|provider failed/, r.stderr)
    const files = await tracked()
    assert.ok(files.includes('filesystem/home/ann/.config/app/app.conf'), files.filter((f) => f.includes('home')).join('\n'))
    assert.ok(files.includes('filesystem/etc/passwd'))
    assert.deepEqual(files.filter((f) => f.startsWith('filesystem/home/bob') || f.startsWith('filesystem/root')), [], 'another user\'s home, or root\'s, is not a non-root twin\'s')
    assert.ok(!files.includes('filesystem/etc/shadow'))
    // The root-only paths of /etc, said once with the way out, not once a path.
    const out = r.stdout + r.stderr
    const rootOnly = out.split('\n').filter((l) => /read .*(EACCES|only root may read)/.test(l))
    assert.equal(rootOnly.length, 2, out) // the files' paths, and cron's spool
    assert.match(out, /Did not read 2 other users' homes \(\/home\/bob, \/root\) and \d+ paths? only root may read \(.*\/etc\/shadow.*\); the twin keeps its last snapshot of them/)
    assert.match(out, /\/etc\/shadow/)
    assert.match(out, /sudo twinsync snapshot/)
    // The user's own autostart entry, not bob's.
    const autostart = JSON.parse((await runOk(['git', '-c', `safe.directory=${twin}`, '-C', twin, 'show', 'HEAD:system/startup/autostart.json'])).stdout) as unknown
    assert.match(JSON.stringify(autostart), /Notes of ann/)
    assert.doesNotMatch(JSON.stringify(autostart), /Notes of bob/)
    // Status: the parts it could not read are not compared (and said so), nothing else differs.
    const status = await asUser(['status'])
    assert.match(status.stdout, /not compared/i, status.stdout)
    assert.doesNotMatch(status.stdout + status.stderr, /PROVIDER_FAILED|Drift: (?!none)/, status.stdout)
  })

  it('keeps what root last recorded of other homes and users\' crontabs, never drops them as removed', async () => {
    // root snapshots the same twin first (root's crontab recorded), then hands it to the user.
    // As `sudo twinsync snapshot` by the user: the twin stays theirs, no chown by hand (session 21).
    const byRoot = await asRoot(['snapshot'], true)
    assert.equal(byRoot.code, 0, byRoot.stderr)
    assert.ok((await tracked()).includes('filesystem/var/spool/cron/crontabs/root'))
    assert.deepEqual(await notTheUsers(), [], 'nothing in the twin is root\'s')
    const r = await asUser(['snapshot'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.match(r.stdout + r.stderr, /crontabs could not be read \(EACCES\): users' crontabs are kept as the last snapshot recorded them \(1\)/)
    const after = await tracked()
    assert.ok(after.includes('filesystem/var/spool/cron/crontabs/root'), 'root\'s crontab is still in the twin')
    assert.ok(after.includes('filesystem/home/bob/.config/app/app.conf') && after.includes('filesystem/root/.config/app/app.conf'), 'other homes stay as root recorded them')
    assert.match(JSON.stringify(JSON.parse((await runOk(['git', '-c', `safe.directory=${twin}`, '-C', twin, 'show', 'HEAD:system/startup/autostart.json'])).stdout)), /Notes of bob/)
    assert.match(r.stdout + r.stderr, /autostart entry in other users' homes kept/)
    const log = (await runOk(['git', '-c', `safe.directory=${twin}`, '-C', twin, 'log', '-1', '--format=%B'])).stdout
    assert.doesNotMatch(log, /crontab.*removed|root.*removed/i, log)
  })

  it('plans every step, and says beside each one its apply would fail on that it needs root, with `sudo twinsync apply` (session 20)', async () => {
    // The twin edited: a root-owned file of /etc, and the user's own file.
    await writeFile(join(twin, 'filesystem/etc/crontab'), 'SHELL=/bin/sh\n25 7 * * * root run-parts /etc/cron.daily\n')
    await writeFile(join(twin, 'filesystem/home/ann/.config/app/app.conf'), 'owner = ann, edited\n')
    const r = await asUser(['plan'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const lines = r.stdout.split('\n')
    const at = (path: string) => lines.findIndex((l) => l.includes(path) && /^\s+files\s/.test(l))
    const etc = at('/etc/crontab')
    const own = at('/home/ann/.config/app/app.conf')
    assert.ok(etc !== -1 && own !== -1, r.stdout)
    assert.match(lines[etc] as string, /\[needs root\]/, r.stdout)
    assert.match(lines.slice(etc + 1, etc + 3).join('\n'), /needs root: \/etc\/crontab is root's/, r.stdout)
    assert.doesNotMatch(lines[own] as string, /needs root/, 'the user\'s own file is theirs to write')
    // With the user's configuration file: root's own (/etc/twinsync/config.yaml) is another.
    assert.match(r.stdout, /1 of 2 changes needs root: .*`sudo twinsync apply --root \S+ --repo \S+ --config \S+\/config\.yaml`/, r.stdout)
    // The JSON plan carries the same note, tied to its change, for any front end.
    const json = JSON.parse((await asUser(['plan', '--json'])).stdout) as { diagnostics: Array<{ code: string; change?: string; path?: string }> }
    assert.deepEqual(json.diagnostics.filter((d) => d.code === 'NEEDS_ROOT').map((d) => d.path), ['/etc/crontab'])
  })

  it('`sudo twinsync apply` on the user\'s twin applies, and leaves every file of the twin the user\'s: their next run works (session 21)', async () => {
    // The plan of the test before, saved by the user with its notes, applied by root as sudo runs it.
    const saved = join(home, 'plan.json')
    const made = await asUser(['plan', '--out', saved])
    assert.equal(made.code, 0, made.stderr + made.stdout)
    assert.match(await readFile(saved, 'utf8'), /NEEDS_ROOT/)
    const r = await asRoot(['apply', saved, '--yes', '--accept-high-risk'], true)
    assert.equal(r.code, 0, r.stderr + r.stdout)
    // Root is not told that what it applies needs root: the saved notes were the user's (session 21).
    assert.match(r.stdout, /\/etc\/crontab/, r.stdout)
    assert.doesNotMatch(r.stdout + r.stderr, /needs? root/, r.stdout)
    assert.match(await readFile(join(rootfs.dir, 'etc/crontab'), 'utf8'), /25 7 \* \* \*/)
    assert.deepEqual(await notTheUsers(), [], 'nothing in the twin is root\'s')
    const snap = await asUser(['snapshot'])
    assert.equal(snap.code, 0, snap.stderr + snap.stdout)
    // Status (exit 1 for the parts a user cannot compare) finds the applied machine matching.
    const status = await asUser(['status'])
    assert.doesNotMatch(status.stderr, /error/, status.stderr)
    assert.match(status.stdout, /the machine matches the twin/, status.stdout)
  })

  it('root without sudo on another user\'s twin is refused with a code and a next step, and changes nothing (session 21)', async () => {
    await writeFile(join(twin, 'filesystem/etc/crontab'), 'SHELL=/bin/sh\n25 8 * * * root run-parts /etc/cron.daily\n')
    const before = (await runOk(['find', twin, '-printf', '%P %u %s %T@\n'])).stdout
    for (const args of [['snapshot'], ['apply', '--yes', '--accept-high-risk'], ['plan']]) {
      const r = await asRoot(args, false)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}${r.stdout}`)
      assert.match(r.stderr, /TWIN_NOT_OWNED/, r.stderr)
      assert.match(r.stderr, /sudo -u ann|sudo twinsync/, r.stderr)
    }
    assert.equal((await runOk(['find', twin, '-printf', '%P %u %s %T@\n'])).stdout, before, 'nothing in the twin changed')
    assert.match(await readFile(join(rootfs.dir, 'etc/crontab'), 'utf8'), /25 7 \* \* \*/, 'nor on the machine')
  })

  it('`sudo twinsync plan --out` into the user\'s own folder writes the plan as theirs; into a folder of root\'s, as root\'s (session 22)', async () => {
    // Before: root's file in the user's home, which the user could read but neither replace nor remove in a folder of root's.
    const theirs = join(home, 'sudo-plan.json')
    const r = await asRoot(['plan', '--out', theirs], true)
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const st = statSync(theirs)
    assert.deepEqual([st.uid, st.gid, (st.mode & 0o777).toString(8)], [UID, UID, '600'])
    const rootsFolder = join(home, 'roots')
    await mkdir(rootsFolder)
    const r2 = await asRoot(['plan', '--out', join(rootsFolder, 'plan.json')], true)
    assert.equal(r2.code, 0, r2.stderr + r2.stdout)
    assert.equal(statSync(join(rootsFolder, 'plan.json')).uid, 0)
  })

  it('a `sudo twinsync apply` killed (kill -9) while it writes the user\'s twin: their next command says so (TWIN_LEFT_BY_ROOT, exit 2) with the one command that repairs it, which does (session 22)', async () => {
    // A first step that waits, so the run is killed with root's files in the twin (its intent commit, the index).
    const slow = join(twin, 'plans/slow.yaml')
    await writeFile(slow, 'actions:\n  - run: [sleep, "31.7"]\n    phase: before\n    description: Slow first step\n')
    await chown(slow, UID, UID)
    const apply = spawn(process.execPath, [TWINSYNC_BIN, 'apply', '--yes', '--accept-high-risk', '--root', rootfs.dir, '--repo', twin], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, LANG: 'C.UTF-8', TWINSYNC_CONFIG: join(home, 'config.yaml'), SUDO_UID: String(UID), SUDO_GID: String(UID), SUDO_USER: 'ann' },
      detached: true,
      stdio: 'ignore',
    })
    const sleeping = async () => (await run(['pgrep', '-x', '-f', 'sleep 31.7'])).stdout.trim().split('\n').filter(Boolean).map(Number)
    for (let i = 0; i < 600 && (await sleeping()).length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    const sleepers = await sleeping()
    assert.ok(sleepers.length > 0, 'the slow step runs')
    process.kill(-(apply.pid as number), 'SIGKILL')
    await new Promise((r) => apply.once('exit', r))
    for (const pid of sleepers) process.kill(pid, 'SIGKILL')
    const left = await notTheUsers()
    assert.ok(left.length > 0, 'the killed run left root\'s files in the twin')
    await runOk(['rm', '-f', slow])

    const r = await asUser(['snapshot'])
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.match(r.stderr, /\[TWIN_LEFT_BY_ROOT\] Files of the twin .* are root's \(.+ the first\), left by a `sudo twinsync` run that ended before it handed the twin back to you/, r.stderr)
    const repair = /Next step: Hand them back: `sudo (chown -R -P -h --from=0 1000:1000 \S+)`, then run the command again\./.exec(r.stderr)?.[1]
    assert.ok(repair, r.stderr)
    // The one command, as the user would run it through sudo.
    await runOk(['sh', '-c', repair])
    assert.deepEqual(await notTheUsers(), [])
    const again = await asUser(['snapshot'])
    assert.equal(again.code, 0, again.stderr + again.stdout)
  })

  // Session 40 (one rule in one place): only the CLI's catch asked leftByRoot; the panel, run by
  // the user on the same twin, showed what git or Node said instead (no code of its own, no repair).
  it('the panel run by the user stops on root\'s files in their twin as the CLI does: TWIN_LEFT_BY_ROOT with the repair (real `twinsync tui`, tmux)', async () => {
    if (!existsSync(join(twin, '.git'))) assert.equal((await asUser(['snapshot', '--init'])).code, 0)
    // What a killed `sudo twinsync` run leaves: git's object store root's (the machine moved, so a snapshot writes objects).
    await writeFile(join(rootfs.dir, 'home/ann/.config/app/app.conf'), 'owner = ann, moved on\n')
    await chown(join(rootfs.dir, 'home/ann/.config/app/app.conf'), UID, UID)
    await runOk(['chown', '-R', '0:0', join(twin, '.git/objects')])
    let tmux: TmuxSession | undefined
    try {
      tmux = await startTmux(['setpriv', `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', process.execPath, TWINSYNC_BIN, 'tui', '--root', rootfs.dir, '--repo', twin], {
        cols: 120,
        rows: 30,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, LANG: 'C.UTF-8', TERM: 'xterm-256color', TWINSYNC_CONFIG: join(home, 'config.yaml') },
      })
      // Keys once the status line's checks are done (while they collect, keys arrive as one chunk, which ink reads as one).
      await tmux.waitFor(/Main menu[\s\S]*(NOT in sync|drift: (none|unknown|\d))/, 60_000)
      await tmux.send('2')
      await tmux.waitFor('❯ 2. Push snapshot')
      await tmux.send('Enter')
      await tmux.waitFor('Take a snapshot now?', 60_000)
      await tmux.send('y')
      const screen = await tmux.waitFor(/The snapshot failed: error \[\w+\]/, 120_000)
      assert.match(screen, /The snapshot failed: error \[TWIN_LEFT_BY_ROOT\]/, screen)
      assert.match(screen.replace(/[\s│]+/g, ' '), /sudo chown -R -P -h --from=0 1000:1000/, screen)
    } finally {
      await tmux?.close()
    }
    // The CLI, on the same twin: the same code.
    const r = await asUser(['snapshot'])
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.match(r.stderr, /\[TWIN_LEFT_BY_ROOT\]/, r.stderr)
    await runOk(['chown', '-R', `${UID}:${UID}`, join(twin, '.git/objects')])
    assert.equal((await asUser(['snapshot'])).code, 0)
  })
})
