import { strict as assert } from 'node:assert'
import type { Provider } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { builtinProviders } from '../../core/src/providers/builtin-providers.js'
import { freshRootfs, type Rootfs } from '../bed/index.js'

/**
 * The conformance kit that plugin authors run, run on every provider TwinSync ships, against a
 * real Debian root: read-only and deterministic collect, stable documents in lane, load/diff
 * round trip, and an empty root handled.
 */
describe('conformance kit on every built-in provider', function () {
  this.timeout(600_000)
  let rootfs: Rootfs
  let providers: Provider[]

  before(async () => {
    rootfs = await freshRootfs()
    providers = (await builtinProviders()).map((p) => p.provider)
  })
  after(() => rootfs?.cleanup())

  it('each provider the root has conforms; facts of a running system say "not detected" on a root that is not running', async () => {
    const report: Record<string, string[]> = {}
    const detected: string[] = []
    for (const provider of providers) {
      // The provider's own config defaults; every built-in's claims, as the host registers them.
      const ctx = createTestContext(rootfs.dir, { providers: [provider, ...providers.filter((p) => p !== provider)] })
      const problems = await checkConformance(provider, ctx)
      const absent = problems.find((p) => p.startsWith('detect() says the domain is absent'))
      if (absent === undefined) detected.push(provider.name)
      report[provider.name] = problems.filter((p) => p !== absent)
    }
    assert.deepEqual(report, Object.fromEntries(providers.map((p) => [p.name, []])))
    for (const name of ['files', 'apt', 'systemd', 'cron']) assert.ok(detected.includes(name), `${name} is detected on a Debian root: ${detected.join(', ')}`)
  })

  it('the files provider also plans, applies and re-applies an edited file through the kit (schema, apply then collect clean, twice unchanged, a forged hostile change refused)', async () => {
    const files = providers.find((p) => p.name === 'files') as Provider
    const ctx = createTestContext(rootfs.dir, { providers: [files, ...providers.filter((p) => p !== files)] })
    const problems = await checkConformance(files, ctx, {
      edit: () => [{ path: 'filesystem/etc/motd', content: 'Edited by the conformance kit\n' }],
      apply: true,
    })
    assert.deepEqual(problems, [])
  })
})
