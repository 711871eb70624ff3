import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chrootOk, freshRootfs, makeTempDir, removeTree, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

const RUN_DIR = '/run/twinsync/rehearsal'
const SITE = '/etc/nginx/sites-available/site'

interface RehearsalJson {
  passed: boolean
  machine: string
  cleanedUp: boolean
  limits: string[]
  changes: Array<{ id: string; verdict: string; status: string; message?: string; outputTail?: string; evidence: string[] }>
  units: Array<{ unit: string; passed: boolean; proof: string; after: string; problem?: string; journal?: string[]; listeningAfter: string[] }>
  checks: Array<{ service: string; command: string; ok: boolean; output: string }>
  failedUnits: { before: string[]; after: string[]; new: string[] }
  timings: { bootMs: number; applyMs: number; checksMs: number; teardownMs: number; totalMs: number }
}

/**
 * Rehearsals on the realistic server root (Debian 13 with nginx, postgresql, postfix, ssh, sudo,
 * cron), run from the host with --root: TwinSync boots a throwaway nspawn container over an
 * overlay of the root, applies the plan inside with its own applier, checks, and throws it away.
 * The root itself must never change, and nothing of the container may be left on the host.
 */
describe('twinsync rehearse on the server root (--root from the host)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const ts = (command: string, ...args: string[]) => cli.twinsync([command, '--root', rootfs.dir, '--repo', cli.twinDir, ...args])
  const site = () => readFile(join(cli.twinDir, 'filesystem', SITE), 'utf8')
  let goodSite: string

  /** Every path of the root with type, size, mtime, mode and owner, plus the content of /etc: any write shows. */
  const fingerprint = async () => {
    const meta = await run(['sh', '-c', 'cd "$1" && find . -xdev -printf "%p %y %s %T@ %m %U %G\\n" | LC_ALL=C sort | sha256sum', 'sh', rootfs.dir])
    const etc = await run(['sh', '-c', 'cd "$1" && find etc var/lib/dpkg -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum', 'sh', rootfs.dir])
    return `${meta.stdout.trim()} ${etc.stdout.trim()}`
  }
  /** What a rehearsal could leave on the host: its run folder entries, processes, mounts, nspawn's own files. */
  const leftovers = (machine?: string) => {
    const found: string[] = []
    if (existsSync(RUN_DIR)) found.push(...readdirSync(RUN_DIR).map((e) => join(RUN_DIR, e)))
    for (const dir of ['/run/systemd/nspawn/propagate']) if (existsSync(dir)) found.push(...readdirSync(dir).filter((e) => e.startsWith('twinsync-rehearsal-')).map((e) => join(dir, e)))
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes('twinsync-rehearsal')) found.push('a twinsync-rehearsal mount in the host namespace')
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmdline = ''
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      } catch {
        continue
      }
      if (/systemd-nspawn|twinsync-rehearsal/.test(cmdline) && cmdline.includes(machine ?? 'twinsync-rehearsal-')) found.push(`process ${pid}: ${cmdline.slice(0, 120)}`)
    }
    return found
  }
  const waitNoLeftovers = async (ms: number) => {
    const deadline = Date.now() + ms
    let left = leftovers()
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      left = leftovers()
    }
    return left
  }

  before(async () => {
    assert.deepEqual(leftovers(), [], 'no rehearsal of an earlier run is left')
    rootfs = await freshRootfs('server')
    cli = await cliSandbox()
    // The package of the plan comes from the root's own package cache: the container has no network.
    await chrootOk(rootfs.dir, 'apt-get', ['install', '--download-only', '-y', '-q', '--no-install-recommends', 'hello'], { timeoutMs: 300_000 })
    assert.ok(readdirSync(join(rootfs.dir, 'var/cache/apt/archives')).some((f) => /^hello_.*\.deb$/.test(f)), 'hello is in the package cache')
    const snap = await ts('snapshot', '--init', '--json')
    assert.equal(snap.code, 0, snap.stderr)
    goodSite = await site()
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('fails the rehearsal of a broken nginx config: the checker rejects it in the container, the root is untouched', async () => {
    await writeTwinFile(cli.twinDir, `filesystem${SITE}`, goodSite.replace('server_name site.test;', 'server_name site.test;\n    this_is_not_a_directive on;'))
    const before = await fingerprint()
    const r = await ts('rehearse', '--json')
    assert.equal(r.code, 1, r.stderr)
    const report = json<{ rehearsal: RehearsalJson }>(r).rehearsal
    assert.equal(report.passed, false)
    const change = report.changes.find((c) => c.id === `files:replace:${SITE}`)
    assert.equal(change?.verdict, 'failed')
    assert.equal(change?.status, 'failed')
    assert.match(change?.message ?? '', /`nginx -t` rejects the new nginx configuration/)
    assert.match(change?.outputTail ?? '', /unknown directive "this_is_not_a_directive"/, "the checker's own output is the evidence")
    assert.ok(report.limits.some((l) => /Hardware is not rehearsed/.test(l)) && report.limits.some((l) => /No network/.test(l)), report.limits.join('\n'))
    assert.equal(report.cleanedUp, true)
    assert.equal(await fingerprint(), before, 'the root is exactly as it was')
    assert.deepEqual(leftovers(), [])
  })

  it('fails a config nginx -t accepts but nginx cannot start with: unit state and journal lines are the evidence', async () => {
    // Port 25 is postfix's: valid syntax, and nginx cannot bind it.
    await writeTwinFile(cli.twinDir, `filesystem${SITE}`, goodSite.replace('listen 8080;', 'listen 8080;\n    listen 25;'))
    const before = await fingerprint()
    const r = await ts('rehearse')
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stdout, /FAILED {2}Replace \/etc\/nginx\/sites-available\/site/)
    assert.match(r.stdout, /`nginx -t` passes/)
    assert.match(r.stdout, /nginx\.service: systemctl restart nginx\.service exited with 1/)
    assert.match(r.stdout, /journal: .*bind\(\) to 0\.0\.0\.0:25 failed \(98: Address already in use\)/)
    assert.match(r.stdout, /Rehearsal FAILED: 0 of 1 changes passed/)
    assert.match(r.stdout, /the container is gone and the machine was not touched/)
    assert.equal(await fingerprint(), before)
    assert.deepEqual(leftovers(), [])
  })

  it('refuses `apply --rehearse` after a failed rehearsal: the report, exit 1, nothing applied', async () => {
    const before = await fingerprint()
    const r = await ts('apply', '--rehearse', '--yes', '--accept-high-risk', '--json')
    assert.equal(r.code, 1, r.stderr)
    const out = json<{ applied: boolean; rehearsal: RehearsalJson; error: { code: string } }>(r)
    assert.equal(out.applied, false)
    assert.equal(out.rehearsal.passed, false)
    assert.equal(out.error.code, 'REHEARSAL_FAILED')
    assert.equal(await fingerprint(), before)
    assert.deepEqual(leftovers(), [])
  })

  it('passes a typical plan (files, a package from the local cache, a service), then applies it', async () => {
    await writeTwinFile(cli.twinDir, `filesystem${SITE}`, goodSite.replace('listen 8080;', 'listen 8080;\n    listen 8090;'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/twin-demo.conf', 'level=1\n')
    await writeTwinFile(cli.twinDir, 'filesystem/etc/systemd/system/twin-demo.service', '[Unit]\nDescription=TwinSync demo\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n')
    await editTwinJson<{ units: Record<string, { state: string }> }>(cli.twinDir, 'system/services/units.json', (d) => {
      d.units['twin-demo.service'] = { state: 'enabled' }
    })
    await editTwinJson<{ nativeArchitecture: string; packages: Record<string, unknown> }>(cli.twinDir, 'system/packages/apt.json', (d) => {
      d.packages.hello = { architecture: d.nativeArchitecture, manual: true, hold: false }
    })
    const before = await fingerprint()
    const r = await ts('rehearse', '--json')
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
    const report = json<{ rehearsal: RehearsalJson }>(r).rehearsal
    const ids = report.changes.map((c) => c.id)
    for (const id of ['apt:install:hello', `files:replace:${SITE}`, 'files:create:/etc/twin-demo.conf', 'files:create:/etc/systemd/system/twin-demo.service', 'systemd:enable:twin-demo.service']) {
      assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`)
    }
    assert.ok(report.changes.every((c) => c.verdict === 'passed'), JSON.stringify(report.changes, null, 2))
    const nginx = report.units.find((u) => u.unit === 'nginx.service')
    assert.equal(nginx?.proof, 'restart')
    assert.ok(nginx?.listeningAfter.includes('tcp 0.0.0.0:8090'), JSON.stringify(nginx))
    const demo = report.units.find((u) => u.unit === 'twin-demo.service')
    assert.equal(demo?.after, 'active', JSON.stringify(demo))
    assert.ok(report.checks.some((c) => c.command === 'nginx -t' && c.ok))
    assert.deepEqual(report.failedUnits.new, [])
    const t = report.timings
    process.stdout.write(`      rehearsal: total ${t.totalMs} ms (boot ${t.bootMs}, apply ${t.applyMs}, checks ${t.checksMs}, teardown ${t.teardownMs})\n`)
    // The goal is under 10 s (npm run bench measures it); on a shared, loaded test machine only a
    // gross regression (a wait running into a timeout) is failed here.
    assert.ok(t.totalMs < 30_000, `a typical plan rehearses in seconds: ${t.totalMs} ms`)
    assert.equal(await fingerprint(), before, 'the rehearsal did not touch the root')
    assert.deepEqual(leftovers(), [])

    const applied = await ts('apply', '--rehearse', '--yes', '--accept-high-risk', '--json')
    assert.equal(applied.code, 0, `${applied.stdout}\n${applied.stderr}`)
    const out = json<{ applied: boolean; rehearsal: RehearsalJson }>(applied)
    assert.equal(out.rehearsal.passed, true)
    assert.equal(out.applied, true)
    assert.match(await readFile(join(rootfs.dir, SITE), 'utf8'), /listen 8090;/)
    // lstat: the link points at /etc/systemd/system/twin-demo.service inside the root, not on the host.
    assert.ok(lstatSync(join(rootfs.dir, 'etc/systemd/system/multi-user.target.wants/twin-demo.service')).isSymbolicLink(), 'enabled on the root')
    assert.match(readFileSync(join(rootfs.dir, 'var/lib/dpkg/status'), 'utf8'), /^Package: hello$/m, 'hello is installed on the root')
    assert.deepEqual(leftovers(), [])
  })

  it('fails a package that is not in the package cache, saying the container has no network', async () => {
    await editTwinJson<{ nativeArchitecture: string; packages: Record<string, unknown> }>(cli.twinDir, 'system/packages/apt.json', (d) => {
      d.packages.cowsay = { architecture: 'all', manual: true, hold: false }
    })
    try {
      const r = await ts('rehearse', '--only', 'packages', '--json')
      assert.equal(r.code, 1, r.stderr)
      const change = json<{ rehearsal: RehearsalJson }>(r).rehearsal.changes.find((c) => c.id === 'apt:install:cowsay')
      assert.equal(change?.verdict, 'failed')
      assert.match(change?.evidence.at(-1) ?? '', /no network.*`apt-get install --download-only cowsay`.*--network/)
      assert.deepEqual(leftovers(), [])
    } finally {
      await editTwinJson<{ packages: Record<string, unknown> }>(cli.twinDir, 'system/packages/apt.json', (d) => {
        delete d.packages.cowsay
      })
    }
  })

  for (const [how, signal] of [['Ctrl-C (SIGINT)', 'SIGINT'], ['SIGTERM', 'SIGTERM'], ['SIGKILL of twinsync itself', 'SIGKILL']] as const) {
    it(`leaves no container, mount or overlay directory after ${how} during the rehearsal`, async () => {
      await writeTwinFile(cli.twinDir, 'filesystem/etc/twin-demo.conf', `interrupted by ${signal}\n`)
      const before = await fingerprint()
      const child = spawn('node', [TWINSYNC_BIN, 'rehearse', '--root', rootfs.dir, '--repo', cli.twinDir], {
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: cli.dir, LANG: 'C.UTF-8', TWINSYNC_CONFIG: cli.configFile, TWINSYNC_DATA_DIR: cli.dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      // Interrupt while the container boots (it takes seconds): nspawn runs, the overlay is mounted.
      const deadline = Date.now() + 120_000
      while (!leftovers().some((l) => /systemd-nspawn/.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      await new Promise((r) => setTimeout(r, 300))
      assert.ok(leftovers().some((l) => /systemd-nspawn/.test(l)), `the container is booting: ${stderr}`)
      child.kill(signal)
      const code = await exited
      if (signal !== 'SIGKILL') {
        assert.equal(code, 130, stderr)
        assert.match(stderr, /\[ABORTED\] The rehearsal was cancelled/)
      }
      assert.deepEqual(await waitNoLeftovers(signal === 'SIGKILL' ? 15_000 : 1_000), [])
      assert.equal(await fingerprint(), before)
    })
  }

  it('overlays a data volume mounted below the root: the plan reads its content and writes none of it', async () => {
    const volume = await makeTempDir('volume')
    await writeFile(join(volume, 'marker'), 'from the volume\n')
    const mountPoint = join(rootfs.dir, 'srv/data')
    await mkdir(mountPoint, { recursive: true })
    await runOk(['mount', '--bind', volume, mountPoint])
    try {
      // The instruction fails unless the volume's content is there; it then writes to it.
      await writeTwinFile(cli.twinDir, 'plans/volume.yaml', 'actions:\n  - run: [sh, -c, "grep -q \'from the volume\' /srv/data/marker && echo rehearsed > /srv/data/marker"]\n')
      const r = await ts('rehearse', '--only', 'commands', '--json')
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
      const report = json<{ rehearsal: RehearsalJson }>(r).rehearsal
      assert.equal(report.changes.length, 1)
      assert.equal(report.changes[0]?.verdict, 'passed', JSON.stringify(report.changes[0]))
      assert.ok(report.limits.some((l) => /overlaid too \(read, never written\): \/srv\/data \(ext4\)/.test(l)), report.limits.join('\n'))
      assert.equal(await readFile(join(volume, 'marker'), 'utf8'), 'from the volume\n', 'the volume was not written')
      assert.deepEqual(leftovers(), [])
    } finally {
      await rm(join(cli.twinDir, 'plans/volume.yaml'), { force: true })
      await runOk(['umount', mountPoint])
      await removeTree(volume)
    }
  })

  it('refuses a root that does not boot with systemd, before it plans anything', async () => {
    const bare = await makeTempDir('bare-root')
    try {
      await mkdir(join(bare, 'etc'))
      await writeFile(join(bare, 'etc/os-release'), 'ID=debian\n')
      const r = await cli.twinsync(['rehearse', '--root', bare, '--repo', cli.twinDir, '--json'])
      assert.equal(r.code, 2, r.stderr)
      const e = json<{ error: { code: string; message: string; nextStep?: string } }>(r).error
      assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
      assert.equal(e.message, `${bare} does not boot with systemd (no /usr/lib/systemd/systemd), so there is nothing to boot a copy of`)
      assert.match(e.nextStep ?? '', /install the Debian packages systemd and systemd-sysv/)
      assert.deepEqual(leftovers(), [])
    } finally {
      await removeTree(bare)
    }
  })

  it('sweeps what a rehearsal whose supervisor was killed too left behind, on the next run', async () => {
    // A record and an empty mount point of a rehearsal whose twinsync and supervisor are gone.
    const name = 'twinsync-rehearsal-999999-abcdef'
    await run(['mkdir', '-p', join(RUN_DIR, name)])
    await run(['sh', '-c', `printf '%s' '{"name":"${name}","root":"/x","owner":{"pid":999999,"start":"1"},"supervisor":{"pid":999998,"start":"1"}}' > ${join(RUN_DIR, `${name}.json`)}`])
    await writeTwinFile(cli.twinDir, 'filesystem/etc/twin-demo.conf', 'swept\n')
    const r = await ts('rehearse', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(leftovers(), [])
    await rm(join(cli.twinDir, 'filesystem/etc/twin-demo.conf'))
  })
})
