import { strict as assert } from 'node:assert'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { repoRoot } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

const fixture = (name: string) => join(repoRoot, 'test', 'fixtures', 'plugins', name)

interface ProvidersJson {
  providers: Array<{ name: string; source: string; detected: boolean | null; version: string }>
  diagnostics: Array<{ severity: string; summary: string; provider?: string }>
}

/** Third-party providers arrive through the `twinsync:providers` oclif hook of installed plugins. */
describe('third-party provider plugins', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(join(root, 'etc'), { recursive: true })
    await writeFile(join(root, 'etc/demo-release'), 'demo 4.2\n')
    await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
    await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
    await writeFile(cli.configFile, 'providers:\n  hookTimeoutMs: 700\n')
    for (const name of ['twinsync-plugin-demo', 'twinsync-plugin-broken', 'twinsync-plugin-slow', 'twinsync-plugin-faulty']) {
      const r = await cli.twinsync(['plugins', 'link', fixture(name)])
      assert.equal(r.code, 0, r.stderr)
    }
  })
  after(() => cli.cleanup())

  it('lists a plugin provider with its version and detection; broken and slow plugins become diagnostics', async () => {
    const r = await cli.twinsync(['providers', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(r.code, 0, r.stderr)
    const out = json<ProvidersJson>(r)
    const demo = out.providers.find((p) => p.name === 'demo')
    assert.deepEqual(demo && { source: demo.source, detected: demo.detected, version: demo.version }, { source: 'twinsync-plugin-demo', detected: true, version: '1.0.0' })
    assert.ok(out.providers.some((p) => p.name === 'os' && p.source === '@twinsync/core'))
    const broken = out.diagnostics.find((d) => d.provider === 'twinsync-plugin-broken')
    assert.match(broken?.summary ?? '', /cannot start/)
    const slow = out.diagnostics.find((d) => d.provider === 'twinsync-plugin-slow')
    assert.match(slow?.summary ?? '', /Timed out after 700 ms/)
  })

  it('collects the plugin provider into the twin while the broken ones are skipped', async () => {
    const r = await cli.twinsync(['snapshot', '--init', '--root', root, '--repo', cli.twinDir, '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(json<{ commit?: string }>(r).commit)
    assert.deepEqual(JSON.parse(await readFile(join(cli.twinDir, 'system/packages/demo.json'), 'utf8')), { release: 'demo 4.2' })
  })

  it('a provider whose load() throws a TypeError: plan goes on for the others and names the plugin, apply refuses', async () => {
    await writeFile(join(cli.twinDir, 'filesystem/etc/demo-release'), 'demo 5.0\n')
    const plan = await cli.twinsync(['plan', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(plan.code, 1, `a plan with errors exits 1: ${plan.stderr}`)
    const out = json<{ changes: Array<{ id: string }>; diagnostics: Array<{ severity: string; code: string; summary: string; detail?: string; provider?: string }> }>(plan)
    assert.ok(out.changes.some((c) => c.id === 'files:replace:/etc/demo-release'), JSON.stringify(out.changes))
    const d = out.diagnostics.find((x) => x.provider === 'faulty')
    assert.equal(d?.code, 'PROVIDER_FAILED')
    assert.match(d?.summary ?? '', /The faulty provider failed in load\(\): TypeError: Cannot read properties of undefined/)
    assert.doesNotMatch(plan.stdout + plan.stderr, /bug in TwinSync|internal error/)
    const text = await cli.twinsync(['plan', '--root', root, '--repo', cli.twinDir])
    assert.match(text.stdout, /error: faulty: The faulty provider failed in load\(\)/)
    const apply = await cli.twinsync(['apply', '--yes', '--root', root, '--repo', cli.twinDir])
    assert.equal(apply.code, 2)
    assert.match(apply.stderr, /\[PROVIDER_FAILED\] Nothing was applied/)
    assert.equal(await readFile(join(root, 'etc/demo-release'), 'utf8'), 'demo 4.2\n')
  })
})
