import { strict as assert } from 'node:assert'
import { bootContainer, REPO_IN_CONTAINER, ROOTFS_BUILD_TIMEOUT_MS, type Container } from '../bed/index.js'

interface ProviderReport {
  changes: string[]
  diagnostics: string[]
  results: Array<{ id: string; status: string; message?: string; outputTail?: string }>
  remaining: string[]
  remainingDiagnostics: string[]
}

const DEMO = '[Unit]\nDescription=TwinSync test service\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n'

describe('apt and systemd together in a booted container (one plan, applied apt first)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let container: Container | undefined

  after(async () => {
    await container?.close()
  })

  it('adds hello, removes a manual package, enables and starts a service and disables one; a second collect + diff is empty', async () => {
    container = await bootContainer()
    const c = container
    // The container shares the host's network; the archive must be reachable for hello.
    const update = await c.run(['apt-get', 'update', '-q'], { timeoutMs: 180_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
    const candidate = /Candidate: (\S+)/.exec((await c.run(['apt-cache', 'policy', 'hello'])).stdout)?.[1]
    assert.ok(
      update.code === 0 && candidate !== undefined && candidate !== '(none)',
      `THE DEBIAN ARCHIVE IS NOT REACHABLE FROM THE TEST CONTAINER: apt-get update exited ${update.code}, hello's candidate is ${candidate}.\n` +
        'This test needs the network of the host to reach the mirror in the container\'s apt sources.\n' + update.stdout + update.stderr,
    )
    // A manually installed package the twin will not list.
    await c.runOk(['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'less'], { timeoutMs: 180_000, env: { DEBIAN_FRONTEND: 'noninteractive' } })
    await c.writeFile('/etc/systemd/system/demo.service', DEMO)
    assert.equal(await unitState(c, 'demo.service'), 'disabled inactive')
    assert.equal(await unitState(c, 'cron.service'), 'enabled active')

    const spec = {
      apt: { install: { hello: candidate }, remove: ['less'] },
      systemd: { units: { 'demo.service': 'enabled', 'cron.service': 'disabled' }, runtime: { 'demo.service': 'active', 'cron.service': 'inactive' } },
    }
    const out = await c.run(['node', `${REPO_IN_CONTAINER}/test/integration/fixtures/apt-systemd-apply.mjs`, JSON.stringify(spec)], { timeoutMs: 300_000 })
    assert.equal(out.code, 0, `apt-systemd-apply.mjs failed:\n${out.stderr}`)
    const { apt, systemd } = JSON.parse(out.stdout) as { apt: ProviderReport; systemd: ProviderReport }

    assert.deepEqual(apt.changes, ['apt:install:hello', 'apt:remove:less'])
    // Not pinned: the archive's candidate is installed, and the plan says so.
    assert.deepEqual(apt.diagnostics, ['APT_VERSION_FROM_ARCHIVE'])
    assert.deepEqual(apt.results.filter((r) => r.status !== 'applied'), [])
    assert.deepEqual(systemd.changes, ['systemd:disable:cron.service', 'systemd:enable:demo.service', 'systemd:stop:cron.service', 'systemd:start:demo.service'])
    assert.deepEqual(systemd.results.filter((r) => r.status !== 'applied'), [])

    // Exactly that state, as the tools of the container say it.
    const pkgs = (await c.runOk(['dpkg-query', '-W', '-f=${Package} ${Version} ${db:Status-Abbrev}\\n', 'hello', 'less'])).stdout
    assert.match(pkgs, new RegExp(`^hello ${candidate.replace(/[.+]/g, '\\$&')} ii $`, 'm'))
    assert.doesNotMatch(pkgs, /^less \S+ ii/m)
    const manual = (await c.runOk(['apt-mark', 'showmanual'])).stdout.split('\n')
    assert.ok(manual.includes('hello') && !manual.includes('less'))
    assert.match((await c.runOk(['hello'])).stdout, /Hello, world!/)
    assert.equal(await unitState(c, 'demo.service'), 'enabled active')
    assert.equal(await unitState(c, 'cron.service'), 'disabled inactive')

    // The second plan is empty, for both providers, without even an informational note.
    assert.deepEqual([apt.remaining, apt.remainingDiagnostics], [[], []])
    assert.deepEqual([systemd.remaining, systemd.remainingDiagnostics], [[], []])
  })
})

async function unitState(c: Container, unit: string): Promise<string> {
  return `${(await c.run(['systemctl', 'is-enabled', unit])).stdout.trim()} ${(await c.run(['systemctl', 'is-active', unit])).stdout.trim()}`
}
