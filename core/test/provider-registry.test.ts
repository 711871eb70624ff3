import { strict as assert } from 'node:assert'
import type { Config as OclifConfig } from '@oclif/core'
import type { Provider } from '@twinsync/sdk'
import { isTwinSyncError } from '@twinsync/sdk'
import sinon from 'sinon'
import { ProviderRegistry } from '../src/providers/provider-registry.js'

const fakeProvider = (name: string, extra: Partial<Provider> = {}): Provider => ({
  name,
  version: '1.0.0',
  category: 'packages',
  description: `${name} packages`,
  twinPaths: [`system/packages/${name}.json`],
  detect: async () => ({ detected: true, diagnostics: [] }),
  collect: async () => ({ state: {}, documents: [], diagnostics: [] }),
  ...extra,
})

function oclifWith(result: unknown): { config: OclifConfig; runHook: sinon.SinonStub } {
  const runHook = sinon.stub().resolves(result)
  return { config: { runHook } as unknown as OclifConfig, runHook }
}

/** No plugin installed: the hook answers with nothing. */
const noPlugins = oclifWith({ successes: [], failures: [] }).config

describe('ProviderRegistry', () => {
  const config = { path: undefined, values: {} }

  it('loads the built-in providers', async () => {
    const registry = new ProviderRegistry(config, noPlugins)
    const names = (await registry.load()).providers.map((p) => p.provider.name)
    for (const name of ['os', 'hardware', 'network', 'processes', 'logs']) assert.ok(names.includes(name), name)
  })

  it('adds providers from plugins and turns a failing plugin into a diagnostic', async () => {
    const { config: oclif, runHook } = oclifWith({
      successes: [
        { plugin: { name: 'twinsync-plugin-dnf' }, result: { providers: [fakeProvider('dnf')] } },
        { plugin: { name: 'twinsync-plugin-bare' }, result: [fakeProvider('flatpak')] },
      ],
      failures: [{ plugin: { name: 'twinsync-plugin-broken' }, error: new Error('Timed out after 5000 ms.') }],
    })
    const set = await new ProviderRegistry(config, oclif).load()
    const names = set.providers.map((p) => p.provider.name)
    assert.ok(names.includes('dnf') && names.includes('flatpak'))
    assert.equal(set.providers.find((p) => p.provider.name === 'dnf')?.source, 'twinsync-plugin-dnf')
    assert.equal(runHook.firstCall.args[0], 'twinsync:providers')
    assert.equal(runHook.firstCall.args[3], true, 'errors are captured, not thrown')
    const failure = set.diagnostics.find((d) => d.provider === 'twinsync-plugin-broken')
    assert.match(failure?.summary ?? '', /Timed out/)
  })

  it('rejects a malformed provider and a duplicate name with diagnostics', async () => {
    const { config: oclif } = oclifWith({
      successes: [{ plugin: { name: 'p' }, result: [{ name: 'BAD NAME' }, fakeProvider('os')] }],
      failures: [],
    })
    const set = await new ProviderRegistry(config, oclif).load()
    assert.equal(set.providers.filter((p) => p.provider.name === 'os').length, 1)
    assert.ok(set.diagnostics.some((d) => /invalid provider/.test(d.summary)))
    assert.ok(set.diagnostics.some((d) => /already loaded/.test(d.summary)))
  })

  it('refuses a plugin provider that would pass for the built-in commands domain (its name or category)', async () => {
    const { config: oclif } = oclifWith({
      successes: [{ plugin: { name: 'p' }, result: [fakeProvider('commands'), fakeProvider('runner', { category: 'commands' }), fakeProvider('dnf')] }],
      failures: [],
    })
    const set = await new ProviderRegistry(config, oclif).load()
    const names = set.providers.map((p) => p.provider.name)
    assert.ok(names.includes('dnf'), 'the others still load')
    assert.ok(!names.includes('commands') && !names.includes('runner'), names.join(', '))
    assert.equal(set.diagnostics.filter((d) => /built-in commands domain/.test(`${d.summary} ${d.detail ?? ''}`)).length, 2, JSON.stringify(set.diagnostics))
  })

  it('refuses to select an unknown provider by name', async () => {
    const registry = new ProviderRegistry(config, noPlugins)
    await assert.rejects(registry.select(['os', 'dnf']), (e: unknown) => isTwinSyncError(e) && e.code === 'PROVIDER_UNKNOWN' && /dnf/.test(e.message))
  })

  it('lists but never runs a disabled provider', async () => {
    const registry = new ProviderRegistry({ path: undefined, values: { providers: { disabled: ['logs'] } } }, noPlugins)
    const set = await registry.load()
    assert.equal(set.providers.find((p) => p.provider.name === 'logs')?.disabled, true)
    assert.ok(!(await registry.select()).some((p) => p.provider.name === 'logs'))
  })
})
