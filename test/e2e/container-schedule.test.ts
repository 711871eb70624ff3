import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bootContainer, makeTempDir, removeTree, repoRoot, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, type Container } from '../bed/index.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * `twinsync schedule` on a booted Debian 13 server with TwinSync installed the README's way:
 * Debian's own nodejs and npm (in the bed's `server-node` root), a `git clone` of the committed
 * HEAD (from a bare copy of the checkout's repository) and the README's offline setup line against a copy of the host's npm cache (the
 * container has no network). Nothing of the host's checkout or node is mounted. Then a real
 * systemd timer that snapshots only on change, and the apt hook around real apt runs.
 */
describe('schedule inside a booted Debian container, installed the README\'s way', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container
  let src: string
  let twin: string
  const count = async () => Number((await run(['git', '-C', twin, 'rev-list', '--count', 'HEAD'])).stdout.trim())
  /** How many times the service has finished successfully (systemd says "Finished …" once per run). */
  const runs = async () => (await ct.run(['journalctl', '-u', 'twinsync-snapshot.service', '-o', 'cat', '--no-pager'])).stdout.split('\n').filter((l) => /^Finished /.test(l)).length
  const waitRuns = async (n: number) => {
    for (let i = 0; i < 120 && (await runs()) < n; i++) await sleep(1000)
    assert.ok((await runs()) >= n, `the timer ran the snapshot ${n} times`)
  }

  before(async () => {
    // What a person would clone: the checkout's repository, whose HEAD is the committed HEAD (a
    // bare copy, so a worktree's or a shallow CI clone's .git works the same; a git bundle of a
    // shallow clone cannot be cloned).
    src = await makeTempDir('src')
    await runOk(['git', 'clone', '-q', '--bare', '--no-local', repoRoot, join(src, 'twinsync.git')])
    const npmCache = (await runOk(['npm', 'config', 'get', 'cache'])).stdout.trim()
    ct = await bootContainer({
      image: 'server-node',
      bindCheckout: false,
      binds: [
        { host: src, container: '/srv/src' },
        { host: npmCache, container: '/srv/npm-cache' },
      ],
    })
    twin = join(ct.upperDir, 'var/lib/twinsync/twin')
  })
  after(async () => {
    await ct?.close()
    if (src) await removeTree(src)
  })

  it('installs with Debian\'s nodejs and npm and the README\'s offline setup line', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8')
    assert.match(readme, /`apt-get install --no-install-recommends nodejs npm git`/, 'the README names what the server-node root installed')
    const line = /^ {4}(git clone <this repository> twinsync && .*npm_config_offline=true npm run setup)$/m.exec(readme)?.[1]
    assert.ok(line, 'the README has the offline setup line')

    // Debian's own packages, new enough for the engines field.
    assert.equal((await ct.runOk(['sh', '-c', 'command -v node; command -v npm'])).stdout, '/usr/bin/node\n/usr/bin/npm\n')
    assert.match((await ct.runOk(['dpkg-query', '-W', '-f=${Package} ${db:Status-Abbrev}\\n', 'nodejs', 'npm'])).stdout, /^nodejs ii \nnpm ii \n$/)
    const engines = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node
    const [wantMajor, wantMinor] = (/^>=(\d+)\.(\d+)$/.exec(engines) ?? assert.fail(`engines.node is ${engines}`)).slice(1).map(Number)
    const [major, minor] = (await ct.runOk(['node', '-p', 'process.versions.node'])).stdout.trim().split('.').map(Number)
    assert.ok(major! > wantMajor! || (major === wantMajor && minor! >= wantMinor!), `Debian's node ${major}.${minor} satisfies ${engines}`)
    assert.equal((await ct.run(['test', '-e', '/opt/twinsync'])).code, 1, 'no checkout from the host inside')
    assert.notEqual((await ct.run(['sh', '-c', 'command -v twinsync'])).code, 0, 'not installed yet')

    // "copy ~/.npm from a machine that ran npm ci in this checkout", then the README's line.
    await ct.runOk(['cp', '-a', '/srv/npm-cache/.', '/root/.npm'])
    const setup = await ct.run(['sh', '-c', line.replace('<this repository>', '/srv/src/twinsync.git')], { cwd: '/root', timeoutMs: 9 * 60_000 })
    assert.equal(setup.code, 0, `${line}\n${setup.stdout}\n${setup.stderr}`)
    assert.match(setup.stdout, /^Created the twin at \/var\/lib\/twinsync\/twin\.$/m)
    assert.equal((await ct.runOk(['sh', '-c', 'command -v twinsync'])).stdout, '/usr/local/bin/twinsync\n')
    const subjects = (await run(['git', '-C', twin, 'log', '--format=%s'])).stdout.trim().split('\n')
    assert.equal(subjects.length, 2, subjects.join('\n'))
    assert.equal(subjects[1], 'TwinSync init')
  })

  it('refuses a bad interval with exit 2 and writes nothing', async () => {
    const r = await ct.twinsync(['schedule', 'enable', '--every', 'often'])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[USAGE\]/)
    assert.equal((await ct.run(['test', '-e', '/etc/systemd/system/twinsync-snapshot.timer'])).code, 1)
  })

  it('installs a visible timer that commits only when something changed', async () => {
    const r = await ct.twinsync(['schedule', 'enable', '--every', '3s', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const enabled = JSON.parse(r.stdout) as { kind: string; active: boolean; command: string; files: string[]; recorded?: string | null }
    assert.equal(enabled.kind, 'systemd')
    // Adopted into the twin at once: the next apply keeps the schedule (it deleted its files and stopped its timer before session 22).
    assert.notEqual(enabled.recorded, undefined, r.stdout)
    // The timer's first run (3s after enable) may hold the twin lock while `plan` asks (CI, session
    // 52: LOCK_HELD, exit 2, said in --json on stdout): plan waits for it (session 53,
    // TwinLock.holdForReading), asked once. A failure says what plan printed.
    const ownItems = async () => {
      const p = await ct.twinsync(['plan', '--json'])
      assert.equal(p.code, 0, `plan exited ${p.code}:\n${p.stdout}\n${p.stderr}`)
      return (JSON.parse(p.stdout) as { changes: Array<{ id: string }> }).changes.map((c) => c.id).filter((id) => id.includes('twinsync'))
    }
    assert.deepEqual(await ownItems(), [])
    assert.equal(enabled.active, true)
    assert.match(enabled.command, /^\/usr\/bin\/node \/usr\/local\/bin\/twinsync snapshot --if-changed$/)
    const timers = await ct.runOk(['systemctl', 'list-timers', '--all', '--no-pager'])
    assert.match(timers.stdout, /twinsync-snapshot\.timer/)
    const startup = await ct.twinsync(['startup'])
    assert.match(startup.stdout, /twinsync-snapshot/)

    const status = await ct.twinsync(['schedule', 'status'])
    assert.equal(status.code, 0, status.stderr)
    assert.match(status.stdout, /systemd timer twinsync-snapshot\.timer, every 3s/)
    // When it runs next: the time alone (before, the whole list-timers row). None is due while a run is under way: asked again.
    let next: { next?: string } = {}
    for (let i = 0; i < 20 && next.next === undefined; i++) {
      next = JSON.parse((await ct.twinsync(['schedule', 'status', '--json'])).stdout) as { next?: string }
      if (next.next === undefined) await new Promise((resolve) => setTimeout(resolve, 500))
    }
    assert.match(next.next ?? '', /^[A-Z][a-z]{2} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/, 'when it runs next')

    // `schedule enable` adopted the schedule's files; systemd's view of its units (loaded,
    // enabled, started) is drift the twin does not ask about, which the first scheduled snapshot
    // that is not left busy records (a real change on the machine). From then on only volatile
    // facts move. (CI, session 37: enable's adoption ran before the timer's first run, which found
    // the twin busy; the second run recorded the units, and counting from the first failed.)
    const unitsRecorded = async () => (await run(['git', '-C', twin, 'show', 'HEAD:system/services/units.json'])).stdout.includes('"twinsync-snapshot.timer"')
    for (let i = 0; i < 120 && !(await unitsRecorded()); i++) await sleep(1000)
    assert.ok(await unitsRecorded(), 'a scheduled snapshot recorded the schedule\'s units')
    const before = await count()
    await waitRuns((await runs()) + 2)
    if ((await count()) !== before) {
      // Every commit with its files, and the service's journal: which run wrote what.
      const log = (await run(['git', '-C', twin, 'log', '--format=%h %ad %s%n%b', '--date=iso-strict', '--stat'])).stdout
      const journal = (await ct.run(['journalctl', '-u', 'twinsync-snapshot.service', '-o', 'short-precise', '--no-pager'])).stdout
      assert.fail(`nothing but volatile facts changed: no commit after the first run (${before} commits then, ${await count()} now)\n${log}\n${journal}\n${enabled.recorded}`)
    }
    const failed = await ct.run(['systemctl', 'is-failed', 'twinsync-snapshot.service'])
    assert.notEqual(failed.stdout.trim(), 'failed', 'the scheduled snapshot succeeded')

    await ct.writeFile('/etc/motd', 'Changed while the timer runs\n')
    const done = await runs()
    await waitRuns(done + 2)
    const journal = async () => (await ct.run(['journalctl', '-u', 'twinsync-snapshot.service', '-o', 'cat', '--no-pager', '-n', '60'])).stdout
    assert.equal(await count(), before + 1, `one commit for the change, none after it\n${await journal()}`)
    const subject = (await run(['git', '-C', twin, 'log', '-1', '--format=%s'])).stdout
    assert.match(subject.trim(), /^files: motd changed( · |$)/, 'the diary line names the change')
  })

  it('--apt snapshots before a package operation when drifted, and after it named after it', async () => {
    assert.equal((await ct.twinsync(['schedule', 'disable'])).code, 0)
    const r = await ct.twinsync(['schedule', 'enable', '--apt', '--every', '1d', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal((JSON.parse(r.stdout) as { apt: string }).apt, '/etc/apt/apt.conf.d/80twinsync-snapshot')
    // A scheduled run may still be finishing (disable does not cut a snapshot short; a oneshot is
    // "activating" while it runs): wait for it.
    const busy = async () => /^ActiveState=(activating|active|deactivating)$/m.test((await ct.run(['systemctl', 'show', '-p', 'ActiveState', 'twinsync-snapshot.service'])).stdout)
    const deadline = Date.now() + 120_000
    while (await busy()) {
      assert.ok(Date.now() < deadline, 'the scheduled snapshot finished within 120 s')
      await sleep(500)
    }
    const record = await ct.twinsync(['snapshot', '--if-changed'])
    assert.equal(record.code, 0, `record the schedule itself: ${record.stderr}`)
    // No network: hello comes from apt's cache in the server-node root (its lists are current).
    await ct.writeFile('/etc/motd', 'Drifted before apt\n')
    // A pending edit in the twin (intent not applied yet) must neither fail nor be dropped.
    await ct.writeFile('/var/lib/twinsync/twin/filesystem/etc/issue.net', 'Intended issue.net\n')
    const before = await count()
    // As under `sudo -E apt`: a person's TWINSYNC_CONFIG and data folder in apt's environment. The
    // hook's run takes neither (session 47; before, the missing file failed the snapshot).
    const person = { TWINSYNC_CONFIG: '/home/nobody-here/config.yaml', TWINSYNC_DATA_DIR: '/home/nobody-here/data', HOME: '/home/nobody-here' }
    const apt = await ct.run(['apt-get', 'install', '-y', '-q', 'hello'], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive', ...person } })
    assert.equal(apt.code, 0, apt.stderr)
    assert.doesNotMatch(apt.stderr, /twinsync:/, 'the hook snapshotted without complaint')
    assert.equal(await count(), before + 2)
    const subjects = (await run(['git', '-C', twin, 'log', '-2', '--format=%s'])).stdout.trim().split('\n')
    assert.equal(subjects[0], 'apt: install hello')
    // The pre-operation snapshot is the usual diary line; its body says when and why.
    assert.match(subjects[1] ?? '', /^files: motd changed/)
    assert.match((await run(['git', '-C', twin, 'log', '-1', '--format=%b', 'HEAD~1'])).stdout, /^TwinSync snapshot \S+Z before apt$/m)
    const motd = await run(['git', '-C', twin, 'show', '--stat', '--format=', 'HEAD~1'])
    assert.match(motd.stdout, /motd/, 'the drift was committed before the operation')
    assert.equal(await ct.readFile('/var/lib/twinsync/twin/filesystem/etc/issue.net'), 'Intended issue.net\n', 'the pending edit is kept')
    const status = await ct.twinsync(['status', '--json'])
    const pending = (JSON.parse(status.stdout) as { pending: { items: Array<{ id: string }> } }).pending.items.map((i) => i.id)
    assert.ok(pending.some((id) => id.includes('issue.net')), `still pending: ${pending.join(', ')}`)
    assert.notEqual(await ct.readFile('/etc/issue.net'), 'Intended issue.net\n', 'and not applied')

    // Nothing drifted now: the pre-operation snapshot makes no commit, the post one names the removal.
    const removal = await ct.run(['apt-get', 'remove', '-y', '-q', 'hello'], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
    assert.equal(removal.code, 0, removal.stderr)
    assert.equal(await count(), before + 3)
    assert.equal((await run(['git', '-C', twin, 'log', '-1', '--format=%s'])).stdout.trim(), 'apt: remove hello')
  })

  it('the apt hook never fails apt, even when twinsync cannot snapshot', async () => {
    await ct.runOk(['mv', '/var/lib/twinsync/twin', '/var/lib/twinsync/twin.away'])
    try {
      const apt = await ct.run(['apt-get', 'install', '-y', '-q', 'hello'], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
      assert.equal(apt.code, 0, apt.stderr)
      assert.match(apt.stderr, /twinsync: no pre-apt snapshot: \[REPO_NOT_INITIALIZED\]/)
      assert.equal(apt.stderr.split('\n').filter((l) => l.startsWith('twinsync:')).length, 2, 'one line per phase')
    } finally {
      await ct.runOk(['mv', '/var/lib/twinsync/twin.away', '/var/lib/twinsync/twin'])
    }
  })

  it('the apt hook says so in one line and lets apt go on when node is gone', async () => {
    const hook = await ct.readFile('/etc/apt/apt.conf.d/80twinsync-snapshot')
    assert.match(hook, /timeout 120 env (-u [A-Z_]+ )+HOME=\/root \/usr\/bin\/node \/usr\/local\/bin\/twinsync apt-hook pre/)
    // Point the hook's line at a node that is gone.
    await ct.writeFile('/etc/apt/apt.conf.d/80twinsync-snapshot', hook.replaceAll('/usr/bin/node', '/usr/bin/node-gone'))
    try {
      const apt = await ct.run(['apt-get', 'remove', '-y', '-q', 'hello'], { timeoutMs: 300_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
      assert.equal(apt.code, 0, apt.stderr)
      const said = apt.stderr.split('\n').filter((l) => l.startsWith('twinsync:'))
      assert.deepEqual(said, [1, 2].map(() => 'twinsync: node not found at /usr/bin/node-gone; no snapshot around this package operation'))
    } finally {
      await ct.writeFile('/etc/apt/apt.conf.d/80twinsync-snapshot', hook)
    }
  })

  it('disable removes every unit it wrote and stops the timer', async () => {
    const r = await ct.twinsync(['schedule', 'disable', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as { removed: string[]; kind: string; recorded?: string | null }
    assert.deepEqual(result.removed.sort(), ['/etc/apt/apt.conf.d/80twinsync-snapshot', '/etc/systemd/system/twinsync-snapshot.service', '/etc/systemd/system/twinsync-snapshot.timer'])
    assert.equal(result.kind, 'none')
    // The twin records the removal too: no apply puts the schedule back.
    assert.notEqual(result.recorded, undefined, r.stdout)
    const plan = await ct.twinsync(['plan', '--json'])
    assert.deepEqual((JSON.parse(plan.stdout) as { changes: Array<{ id: string }> }).changes.map((c) => c.id).filter((id) => id.includes('twinsync')), [])
    const timers = await ct.runOk(['systemctl', 'list-timers', '--all', '--no-pager'])
    assert.doesNotMatch(timers.stdout, /twinsync-snapshot/)
    assert.equal((await ct.run(['test', '-e', '/etc/systemd/system/timers.target.wants/twinsync-snapshot.timer'])).code, 1)
    const status = await ct.twinsync(['schedule', 'status'])
    assert.match(status.stdout, /No scheduled snapshot is installed/)
  })

  it('snapshots into a twin whose path holds %, $, quotes, a backslash and spaces, from the service systemd runs and the line cron runs', async () => {
    // systemd reads % as a specifier (%b: the boot ID), $ as a variable and backslash escapes even
    // in quotes; cron cuts its line at a % and gives the rest to the command's input.
    const commits = async (path: string) => Number((await run(['git', '-C', join(ct.upperDir, path), 'rev-list', '--count', 'HEAD'], { timeoutMs: 30_000 })).stdout.trim() || 0)
    const viaSystemd = '/var/lib/odd %b $HOME ${HOME} "q" \'q\' a\\nb\\%'
    const viaCron = "/var/lib/odd%h %%cron 'q' $HOME"
    for (const path of [viaSystemd, viaCron]) {
      const init = await ct.twinsync(['init', '--repo', path])
      assert.equal(init.code, 0, init.stderr + init.stdout)
      assert.equal(await commits(path), 1)
    }
    // The cron line exactly as `schedule` writes it (on a root without systemd), run every minute by the container's cron.
    await ct.runOk(['mkdir', '-p', '/srv/no-systemd'])
    const made = await ct.twinsync(['schedule', 'enable', '--every', '1h', '--root', '/srv/no-systemd', '--repo', viaCron])
    assert.equal(made.code, 0, made.stderr + made.stdout)
    const line = (await ct.readFile('/srv/no-systemd/etc/cron.d/twinsync')).split('\n').find((l) => l.startsWith('0 ')) ?? assert.fail('a cron line')
    assert.equal((await ct.run(['systemctl', 'is-active', 'cron'])).stdout.trim(), 'active', 'cron runs in the container')
    await ct.writeFile('/etc/cron.d/twinsync-odd', `SHELL=/bin/sh\n${line.replace(/^0 \S+/, '* *')}\n`)

    const r = await ct.twinsync(['schedule', 'enable', '--every', '1h', '--repo', viaSystemd])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const started = await ct.run(['systemctl', 'start', 'twinsync-snapshot.service'], { timeoutMs: 120_000 })
    assert.equal(started.code, 0, started.stderr + (await ct.run(['journalctl', '-u', 'twinsync-snapshot.service', '-o', 'cat', '--no-pager'])).stdout)
    assert.equal(await commits(viaSystemd), 2, 'the service snapshotted into that very path')
    await ct.twinsync(['schedule', 'disable'])

    for (let i = 0; i < 75 && (await commits(viaCron)) < 2; i++) await sleep(1000)
    assert.equal(await commits(viaCron), 2, 'cron ran the line into that very path')
    await ct.run(['rm', '-f', '/etc/cron.d/twinsync-odd'])
  })
})
