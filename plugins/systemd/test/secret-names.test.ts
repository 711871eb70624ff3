import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost, MemoryCache, RecordingHost, type ProviderContext } from '@twinsync/sdk'
import { collectSystemdState } from '../src/collect.js'

// Token-shaped names the SDK's detector knows (github, aws-access-key); not real credentials.
const GITHUB = 'ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5'
const AWS = 'AKIAQWERTYUIOPASDFGH'

describe('systemd: a unit whose name holds a secret is held out at collect', () => {
  let root: string
  const etc = (name: string) => join(root, 'etc/systemd/system', name)

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-unit-names-'))
    await mkdir(join(root, 'usr/lib/systemd/system'), { recursive: true })
    await mkdir(etc('multi-user.target.wants'), { recursive: true })
    await mkdir(etc('timers.target.wants'), { recursive: true })
    await symlink('usr/lib', join(root, 'lib'))
    await writeFile(join(root, 'usr/lib/systemd/system/multi-user.target'), '[Unit]\nDescription=Multi-User\n')
    await symlink('multi-user.target', join(root, 'usr/lib/systemd/system/default.target'))
    const service = '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n'
    await writeFile(etc('app.service'), service)
    await symlink('/etc/systemd/system/app.service', etc('multi-user.target.wants/app.service'))
    await writeFile(etc(`${GITHUB}.service`), service)
    await symlink(`/etc/systemd/system/${GITHUB}.service`, etc(`multi-user.target.wants/${GITHUB}.service`))
    await writeFile(etc(`${AWS}.timer`), '[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n')
    await symlink(`/etc/systemd/system/${AWS}.timer`, etc(`timers.target.wants/${AWS}.timer`))
    // A link whose unit file is gone: the name is only the link's.
    await symlink(`/etc/systemd/system/key-${AWS}.service`, etc(`multi-user.target.wants/key-${AWS}.service`))
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('leaves the names out of units, boot units and timers, says each by its folder and rule, and says it again from the cache', async () => {
    const cache = new MemoryCache()
    for (const run of ['first', 'cached']) {
      const { state, diagnostics } = await collectSystemdState({ host: new LocalHost(root), cache } as unknown as ProviderContext)
      const text = JSON.stringify(state)
      assert.ok(!text.includes(GITHUB) && !text.includes(AWS), `${run}: ${text}`)
      assert.equal(state.units['app.service']?.state, 'enabled', run)
      assert.ok(state.startup.wantedAtBoot.includes('app.service'), run)
      assert.deepEqual(
        diagnostics.map((d) => [d.code, d.path, d.summary]).sort(),
        [
          ['SYSTEMD_NAME_SECRET', '/etc/systemd/system', 'A unit name in /etc/systemd/system holds a secret (aws-access-key); the twin leaves the unit out'],
          ['SYSTEMD_NAME_SECRET', '/etc/systemd/system', 'A unit name in /etc/systemd/system holds a secret (github); the twin leaves the unit out'],
          ['SYSTEMD_NAME_SECRET', '/etc/systemd/system/multi-user.target.wants', 'A unit name in /etc/systemd/system/multi-user.target.wants holds a secret (aws-access-key); the twin leaves the unit out'],
        ],
        run,
      )
      assert.ok(!JSON.stringify(diagnostics).includes(GITHUB) && !JSON.stringify(diagnostics).includes(AWS), run)
    }
  })

  it('leaves a unit only the running manager lists out of the runtime state, and does not say a unit file\'s held name twice', async () => {
    await mkdir(join(root, 'run/systemd/system'), { recursive: true })
    const listed = [`app.service loaded active running App`, `${GITHUB}.service loaded active running Agent`, `worker@${AWS}.service loaded active running Worker`].join('\n')
    const host = new RecordingHost(new LocalHost(root), {
      live: true,
      query: (command, args) => (command === 'systemctl' && args[0] === 'list-units' ? { exitCode: 0, stdout: `${listed}\n` } : { exitCode: 1, stderr: 'not here' }),
    })
    const { state, diagnostics } = await collectSystemdState({ host, cache: new MemoryCache() } as unknown as ProviderContext)
    assert.deepEqual(Object.keys(state.runtime ?? {}).sort(), ['app.service'])
    const held = diagnostics.filter((d) => d.code === 'SYSTEMD_NAME_SECRET')
    assert.equal(held.length, 4, JSON.stringify(held))
    assert.deepEqual(held.filter((d) => d.path === undefined).map((d) => d.summary), ['A unit the running manager lists has a name that holds a secret (aws-access-key); the twin leaves the unit out'])
    assert.ok(!JSON.stringify([state, diagnostics]).includes(GITHUB) && !JSON.stringify([state, diagnostics]).includes(AWS))
  })
})
