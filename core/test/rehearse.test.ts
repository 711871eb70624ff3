import { strict as assert } from 'node:assert'
import type { Change, ExecResult, FileStat, HostPort } from '@twinsync/sdk'
import { isConfigChecker } from '@twinsync/sdk'
import { builtinProviders } from '../src/providers/builtin-providers.js'
import { startedAgain, unitsOf } from '../src/rehearse/inside.js'
import type { RehearsalReport } from '../src/rehearse/rehearsal-report.js'
import { againstTheMachine, fileSystemsBelow, preflight, rehearsalRefusal, withNetworkHints, type PreflightFacts } from '../src/rehearse/rehearsal-service.js'
import { renderRehearsal } from '../src/cli/render-rehearsal.js'
import { RehearsalContainer } from '../src/rehearse/rehearsal-container.js'
import { twinsyncLine } from '../src/plan/command-text.js'

/** The run's lines (RunTarget's): a twin at a path with a space. */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/', repo: '/var/my twin' })

const withSystemd = { root: '/srv/machine', stat: async (p: string) => (p === '/usr/lib/systemd/systemd' ? ({ type: 'file' } as FileStat) : undefined) }
const facts = (over: Partial<PreflightFacts> & { missing?: string[] } = {}): PreflightFacts => ({
  uid: over.uid ?? 0,
  has: async (tool) => !(over.missing ?? []).includes(tool),
  filesystems: over.filesystems ?? (() => 'nodev\tsysfs\nnodev\ttmpfs\nnodev\toverlay\n\text4\n'),
  cgroup: over.cgroup ?? (() => '0::/user.slice/user-0.slice/session-3.scope\n'),
})

async function refusal(promise: Promise<void>): Promise<{ code: string; message: string; nextStep?: string; details?: Record<string, unknown> }> {
  try {
    await promise
  } catch (error) {
    return error as { code: string; message: string; nextStep?: string }
  }
  assert.fail('expected a refusal')
}

describe('rehearsal container: paths nspawn and overlay options cannot carry', () => {
  it('a plugin folder (bound in) with such a name is refused before anything starts, with a next step about that folder, not the root', async () => {
    for (const odd of ['/opt/my:plugin', '/opt/a,b', '/opt/new\nline', '/opt/back\\slash']) {
      const e = await refusal(RehearsalContainer.start({ root: '/srv/machine', network: 'none', binds: [{ host: odd, container: odd, readOnly: true }] }).then(() => undefined))
      assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
      assert.match(e.message, /cannot use the path/)
      assert.doesNotMatch(e.nextStep ?? '', /Rehearse a root/)
      assert.match(e.nextStep ?? '', /plugins link/)
    }
    const e = await refusal(RehearsalContainer.start({ root: '/srv/odd:root', network: 'none', binds: [] }).then(() => undefined))
    assert.match(e.nextStep ?? '', /Rehearse a root/)
  })
})

describe('rehearsal preflight: a coded refusal with the next step where it cannot run', () => {
  it('passes where everything is in place', async () => {
    await preflight(withSystemd, LINE, facts())
  })

  it('refuses when not root', async () => {
    const e = await refusal(preflight(withSystemd, LINE, facts({ uid: 1000 })))
    assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
    assert.match(e.message, /only root can do/)
    assert.match(e.nextStep ?? '', /`sudo twinsync rehearse --repo '\/var\/my twin'`/)
  })

  it('refuses without systemd-nspawn, naming the Debian package systemd-container', async () => {
    const e = await refusal(preflight(withSystemd, LINE, facts({ missing: ['systemd-nspawn'] })))
    assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
    assert.match(e.message, /systemd-nspawn is not installed/)
    assert.equal(e.nextStep, 'Install the Debian package systemd-container: `apt-get install systemd-container`.')
    assert.deepEqual(e.details, { missing: 'systemd-nspawn', package: 'systemd-container' })
  })

  it('refuses without util-linux tools, naming the package', async () => {
    const e = await refusal(preflight(withSystemd, LINE, facts({ missing: ['setpriv'] })))
    assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
    assert.match(e.nextStep ?? '', /util-linux/)
  })

  it('refuses on a kernel without overlayfs', async () => {
    const e = await refusal(preflight(withSystemd, LINE, facts({ filesystems: () => 'nodev\tsysfs\n\text4\n' })))
    assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
    assert.match(e.message, /no overlay file system/)
    assert.match(e.nextStep ?? '', /modprobe overlay/)
  })

  it('refuses a TwinSync that runs outside the control groups its systemd sees (entered with nsenter from outside)', async () => {
    for (const cgroup of ['0::/..\n', '9:name=systemd:/..\n0::/..\n', '0::/../../system.slice/x.service\n']) {
      const e = await refusal(preflight(withSystemd, LINE, facts({ cgroup: () => cgroup })))
      assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
      assert.match(e.message, /outside the control groups/)
      assert.match(e.nextStep ?? '', /`systemd-run --pipe --wait twinsync rehearse --repo '\/var\/my twin'`/)
    }
    await preflight(withSystemd, LINE, facts({ cgroup: () => '0::/system.slice/..odd-name.service\n' }))
  })

  it('refuses a target root that does not boot with systemd', async () => {
    const e = await refusal(preflight({ root: '/srv/machine', stat: async () => undefined }, LINE, facts()))
    assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
    assert.match(e.message, /\/srv\/machine does not boot with systemd/)
    assert.match(e.nextStep ?? '', /systemd-sysv/)
  })
})

describe('what a rehearsal proves: the units of a plan', () => {
  const change = (over: Partial<Change>): Change => ({ id: 'x', provider: 'files', category: 'files', operation: 'replace', resource: '/x', summary: 'x', risk: 'low', ...over }) as Change

  it('takes the units of systemd changes and those that read a changed configuration (the shared checker table)', async () => {
    const checks = (await builtinProviders()).map((b) => b.provider).filter(isConfigChecker).flatMap((p) => p.configChecks)
    const units = unitsOf(
      [
        change({ id: 'files:replace:/etc/nginx/nginx.conf', data: { action: 'write', path: '/etc/nginx/nginx.conf' } }),
        change({ id: 'files:replace:/etc/sudoers', data: { action: 'write', path: '/etc/sudoers' } }),
        change({ id: 'systemd:enable:demo.service', provider: 'systemd', category: 'services', operation: 'enable', resource: 'demo.service', data: { unit: 'demo.service' } }),
        change({ id: 'systemd:daemon-reload:manager', provider: 'systemd', category: 'services', operation: 'daemon-reload', resource: 'manager' }),
        change({ id: 'systemd:reload:nginx.service', provider: 'systemd', category: 'services', operation: 'reload', resource: 'nginx.service', data: { unit: 'nginx.service' } }),
      ],
      checks,
    )
    assert.deepEqual(
      units.map((u) => [u.unit, u.changes, [...u.operations]]),
      [
        ['nginx.service', ['files:replace:/etc/nginx/nginx.conf', 'systemd:reload:nginx.service'], ['config', 'reload']],
        ['demo.service', ['systemd:enable:demo.service'], ['enable']],
      ],
    )
  })

  it('a folder deleted whole is proven on the unit of the service that reads a file below it (the check\'s rule, checksReading)', async () => {
    const checks = (await builtinProviders()).map((b) => b.provider).filter(isConfigChecker).flatMap((p) => p.configChecks)
    const path = '/etc/ssh/sshd_config.d'
    const units = unitsOf([change({ id: `files:delete:${path}`, operation: 'delete', data: { action: 'delete', path, below: [{ path: `${path}/10-port.conf`, liveFingerprint: 'f' }] } })], checks)
    assert.deepEqual(units.map((u) => [u.unit, u.changes, [...u.operations]]), [['ssh.service', [`files:delete:${path}`], ['config']]])
  })
})

describe('the rule for applying after a rehearsal', () => {
  const report = (passed: boolean): RehearsalReport => ({
    passed,
    root: '/',
    machine: 'twinsync-rehearsal-1-abcdef',
    network: 'none',
    changes: [
      {
        id: 'files:replace:/etc/nginx/sites-available/site',
        provider: 'files',
        summary: 'Replace /etc/nginx/sites-available/site',
        verdict: passed ? 'passed' : 'failed',
        status: 'applied',
        evidence: ['applied: checked: `nginx -t` passed', passed ? 'nginx.service comes up after a restart: active' : 'nginx.service: systemctl restart nginx.service exited with 1', '  journal: nginx: [emerg] bind() to 0.0.0.0:25 failed (98: Address already in use)'],
      },
    ],
    units: [],
    checks: [],
    failedUnits: { before: [], after: passed ? [] : ['nginx.service'], new: passed ? [] : ['nginx.service'] },
    diagnostics: [],
    limits: ['Hardware is not rehearsed.'],
    timings: { bootMs: 500, applyMs: 300, checksMs: 1000, teardownMs: 50, totalMs: 2000 },
    bootedAt: 0,
    bootState: 'running',
    cleanedUp: true,
  })

  it('applies only after a rehearsal that passed', () => {
    assert.equal(rehearsalRefusal(report(true), LINE), undefined)
    const refused = rehearsalRefusal(report(false), LINE)
    assert.equal(refused?.code, 'REHEARSAL_FAILED')
    assert.equal(refused?.exitCode, 1)
    assert.match(refused?.message ?? '', /Nothing was applied: Rehearsal FAILED: 0 of 1 changes passed; newly failed units: nginx\.service/)
  })

  it('renders per change the verdict and its evidence, the limits and that nothing is left', () => {
    const text = renderRehearsal(report(false))
    assert.match(text, /^ {2}FAILED {2}Replace \/etc\/nginx\/sites-available\/site$/m)
    assert.match(text, /journal: nginx: \[emerg\] bind\(\) to 0\.0\.0\.0:25 failed/)
    assert.match(text, /What a rehearsal cannot prove:\n {2}- Hardware is not rehearsed\./)
    assert.match(text, /the container is gone and the machine was not touched\.$/)
  })

  it("says which failed units are the machine's own", () => {
    const r = report(true)
    const text = renderRehearsal({ ...r, failedUnits: { ...r.failedUnits, onMachine: ['twin-broken.service'] } })
    assert.match(text, /^ {2}note {4}already failed on the machine, not caused by the plan: twin-broken\.service$/m)
    assert.match(text, /Rehearsal PASSED/)
  })
})

describe('the other file systems below the root', () => {
  const mountinfo = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '23 22 0:5 / /proc rw shared:2 - proc proc rw',
    '24 22 0:20 / /run rw shared:3 - tmpfs tmpfs rw',
    '30 22 8:3 / /var/lib/docker rw shared:9 - xfs /dev/sdb1 rw',
    '25 22 8:2 / /var rw shared:4 - ext4 /dev/sda2 rw',
    '26 22 0:40 / /srv/nfs rw shared:5 - nfs4 server:/export rw',
    '27 22 8:4 / /srv/my\\040data rw shared:6 - ext4 /dev/sdc1 rw',
    '28 22 0:41 / /tmp rw shared:7 - tmpfs tmpfs rw',
    '29 22 8:5 /x /other/root/var rw shared:8 - ext4 /dev/sdd1 rw',
  ].join('\n')

  const noFiles = () => false

  it('overlays local disk file systems, outermost first, and names the rest as left out', () => {
    assert.deepEqual(fileSystemsBelow('/', mountinfo, noFiles), {
      overlaid: [
        { path: '/var', type: 'ext4' },
        { path: '/var/lib/docker', type: 'xfs' },
        { path: '/other/root/var', type: 'ext4' },
      ],
      files: [],
      outside: [
        { path: '/srv/nfs', type: 'nfs4' },
        { path: '/srv/my data', type: 'ext4' },
      ],
    })
  })

  it('takes only what is below another root, as paths of that root', () => {
    assert.deepEqual(fileSystemsBelow('/other/root', mountinfo, noFiles), { overlaid: [{ path: '/var', type: 'ext4' }], files: [], outside: [] })
  })

  it('binds a single file mounted below the root (an overlay cannot sit on a file)', () => {
    const withFile = `${mountinfo}\n31 22 8:1 /usr/bin/node /usr/local/bin/node ro shared:10 - ext4 /dev/sda1 rw`
    const below = fileSystemsBelow('/', withFile, (p) => p === '/usr/local/bin/node')
    assert.deepEqual(below.files, [{ path: '/usr/local/bin/node', type: 'ext4' }])
    assert.ok(!below.overlaid.some((m) => m.path === '/usr/local/bin/node'))
  })
})

describe("the rehearsal's failed units against the machine's own", () => {
  const unit = (name: string) => ({ unit: name, changes: ['c'], expected: 'active' as const, before: 'active', after: 'failed', proof: 'restart' as const, listeningBefore: [], listeningAfter: [], missing: [], passed: false })
  const inside = {
    units: [unit('nginx.service')],
    failedUnits: { before: ['broken.service'], after: ['broken.service', 'late.service', 'nginx.service', 'other.service'], new: ['late.service', 'nginx.service', 'other.service'] },
    diagnostics: [
      { severity: 'error' as const, code: 'REHEARSAL_UNIT_FAILED', summary: 'late.service failed in the rehearsal and had not failed before the plan ran' },
      { severity: 'error' as const, code: 'REHEARSAL_UNIT_FAILED', summary: 'other.service failed in the rehearsal and had not failed before the plan ran' },
    ],
  }

  it("names units that failed on the machine too and that the plan does not touch as the machine's, not the plan's", () => {
    const out = againstTheMachine(inside, ['broken.service', 'late.service', 'nginx.service'])
    // late.service failed on the machine and only later in the container: still the machine's.
    assert.deepEqual(out.failedUnits.onMachine, ['broken.service', 'late.service'])
    // nginx.service is the plan's: it touched it, so its failure counts whatever the machine shows.
    assert.deepEqual(out.failedUnits.new, ['nginx.service', 'other.service'])
    assert.deepEqual(out.diagnostics.map((d) => d.summary.split(' ')[0]), ['other.service'])
  })

  it('compares nothing for a root that is not running', () => {
    assert.deepEqual(againstTheMachine(inside, undefined).failedUnits, inside.failedUnits)
  })
})

describe('a package the rehearsal could not fetch', () => {
  it('says the container has no network and how to rehearse it anyway', () => {
    const [failed, other] = withNetworkHints([
      { id: 'apt:install:htop', provider: 'apt', summary: 'install htop', verdict: 'failed', status: 'failed', message: 'apt-get install exited with 100', outputTail: 'E: Failed to fetch http://mirror/htop.deb  Temporary failure resolving \'mirror\'', evidence: ['failed'] },
      { id: 'apt:install:hello', provider: 'apt', summary: 'install hello', verdict: 'passed', status: 'applied', evidence: ['applied'] },
    ])
    assert.match(failed?.evidence.at(-1) ?? '', /no network.*`apt-get install --download-only htop`.*--network/)
    assert.deepEqual(other?.evidence, ['applied'])
  })
})

describe('units the container could not spawn at its boot', () => {
  /** A container's systemctl: each unit's ActiveState and Result, and what `start` makes of it. */
  const container = (units: Record<string, { state: string; result: string; startsTo: string }>) => {
    const ran: string[] = []
    const answer = (stdout: string, exitCode = 0): ExecResult => ({ stdout, stderr: '', exitCode }) as ExecResult
    const host = {
      query: async (command: string, args: readonly string[]) => {
        const unit = units[args[args.length - 1] as string]
        assert.equal(command, 'systemctl')
        return answer(unit === undefined ? 'ActiveState=inactive\nResult=success\n' : `ActiveState=${unit.state}\nResult=${unit.result}\n`)
      },
      exec: async (command: string, args: readonly string[]) => {
        ran.push(`${command} ${args.join(' ')}`)
        const unit = units[args[args.length - 1] as string]
        if (args[0] === 'start' && unit !== undefined) Object.assign(unit, { state: unit.startsTo, result: unit.startsTo === 'failed' ? 'resources' : 'success' })
        return answer('')
      },
    } as unknown as HostPort
    return { host, ran }
  }

  // CI, session 32: nginx failed at the rehearsal container's boot ("Failed to spawn executor",
  // result 'resources') while other containers booted; the plan's nginx change was judged failed.
  it("starts once more a unit that failed for want of resources (systemd could not spawn it), and only such a unit", async () => {
    const { host, ran } = container({
      'nginx.service': { state: 'failed', result: 'resources', startsTo: 'active' },
      'bad.service': { state: 'failed', result: 'exit-code', startsTo: 'active' },
      'ok.service': { state: 'active', result: 'success', startsTo: 'active' },
    })
    assert.deepEqual(await startedAgain(host, ['nginx.service', 'bad.service', 'ok.service', 'absent.service']), ['nginx.service'])
    assert.deepEqual(ran, ['systemctl reset-failed -- nginx.service', 'systemctl start -- nginx.service'])
  })

  it('tries once: a unit that cannot be spawned again stays failed, the baseline', async () => {
    const units = { 'nginx.service': { state: 'failed', result: 'resources', startsTo: 'failed' } }
    const { host, ran } = container(units)
    assert.deepEqual(await startedAgain(host, ['nginx.service']), ['nginx.service'])
    assert.equal(units['nginx.service'].state, 'failed')
    assert.equal(ran.length, 2)
  })
})
