import { strict as assert } from 'node:assert'
import type { Config as OclifConfig } from '@oclif/core'
import type { ApplyResult, Diagnostic, Provider } from '@twinsync/sdk'
import { isTwinSyncError } from '@twinsync/sdk'
import sinon from 'sinon'
import { RunTarget } from '../src/plan/run-target.js'
import { ProviderRegistry } from '../src/providers/provider-registry.js'
import { callProvider } from '../src/providers/provider-call.js'

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

  // Session 45: such a plugin loaded as usual; its collect was refused at every snapshot (a path
  // the twin cannot hold), or, for another provider's path, whichever came first owned it.
  it("refuses, when it loads, a provider whose twinPaths or inputPaths name the twin's own files, a path the twin cannot hold, TwinSync's journal or another provider's path; the others load", async () => {
    const bad: Array<[Partial<Provider>, RegExp]> = [
      [{ twinPaths: ['plans/'] }, /its twinPaths name plans\/, a path outside system\//],
      [{ twinPaths: ['twin.json'] }, /its twinPaths name twin\.json, a path outside system\//],
      [{ twinPaths: ['filesystem/etc/'] }, /its twinPaths name filesystem\/etc\/, a path outside system\//],
      [{ twinPaths: ['system/x/.git/'] }, /its twinPaths name system\/x\/\.git\/, a name git keeps for its own repository/],
      [{ twinPaths: ['system/x/../../plans/'] }, /its twinPaths name system\/x\/\.\.\/\.\.\/plans\/, a \.\. part/],
      [{ twinPaths: ['system/x/.gitmodules'] }, /its twinPaths name system\/x\/\.gitmodules, a \.gitmodules or \.gitattributes/],
      [{ twinPaths: ['system/journal/commands.json'] }, /its twinPaths name system\/journal\/commands\.json, which reaches system\/journal\/, TwinSync's own/],
      [{ twinPaths: ['system/twinsync/providers.json'] }, /its twinPaths name system\/twinsync\/providers\.json, which reaches system\/twinsync\/, TwinSync's own/],
      [{ twinPaths: ['system/'] }, /its twinPaths name system\/, which reaches system\/journal\//],
      [{ twinPaths: ['system/packages/apt.json'] }, /its twinPaths name system\/packages\/apt\.json, which reaches system\/packages\/apt\.json, the apt provider's/],
      [{ twinPaths: ['system/packages/'] }, /its twinPaths name system\/packages\/, which reaches system\/packages\/apt\.json, the apt provider's/],
      [{ twinPaths: ['system/startup/'] }, /its twinPaths name system\/startup\/, which reaches system\/startup\/[a-z-]+\.json, the [a-z]+ provider's/],
      [{ twinPaths: ['system/mine.json'], inputPaths: ['system/packages/apt-pins.json'] }, /its inputPaths name system\/packages\/apt-pins\.json, which reaches system\/packages\/apt-pins\.json, the apt provider's/],
      [{ twinPaths: ['system/dnf/x.json'] }, /its twinPaths name system\/dnf\/x\.json, which reaches system\/dnf\/, the dnf provider's/],
      [{ twinPaths: [42 as unknown as string] }, /its twinPaths hold number, not a path/],
    ]
    const { config: oclif } = oclifWith({
      successes: [{ plugin: { name: 'twinsync-plugin-p' }, result: [fakeProvider('dnf', { twinPaths: ['system/dnf/'] }), ...bad.map(([extra], i) => fakeProvider(`bad${i}`, extra)), fakeProvider('fine', { twinPaths: ['system/fine.json', 'system/fine/'], inputPaths: ['system/fine-input.json'] })] }],
      failures: [],
    })
    // A run with --root, --repo and --config: `plugins uninstall` takes none of them (oclif: "Nonexistent flag: --root").
    const target = new RunTarget({ root: '/mnt/other' }, { path: '/etc/ts.yaml' }, { dir: '/srv/twin' })
    const set = await new ProviderRegistry(config, oclif, target).load()
    const names = set.providers.map((p) => p.provider.name)
    for (const name of ['dnf', 'fine', 'files', 'apt', 'cron', 'twin-providers']) assert.ok(names.includes(name), `${name} loads: ${names.join(', ')}`)
    bad.forEach(([, said], i) => {
      assert.ok(!names.includes(`bad${i}`), `bad${i} is not loaded`)
      const d = set.diagnostics.filter((x) => x.provider === `bad${i}`)
      assert.equal(d.length, 1, JSON.stringify(set.diagnostics))
      assert.equal(d[0]?.code, 'PROVIDER_FAILED')
      assert.equal(d[0]?.severity, 'error')
      assert.match(d[0]?.summary ?? '', new RegExp(`^The bad${i} provider of twinsync-plugin-p is not loaded: ${said.source}`))
      assert.match(d[0]?.detail ?? '', /\(`twinsync plugins uninstall twinsync-plugin-p`\)/)
    })
    assert.equal(set.diagnostics.length, bad.length, 'the built-in providers and the sound plugins load without a word')
  })

  it("keeps a provider's own codes, and the bundled plugins' tables, listed with the provider (ProviderListing, describe)", async () => {
    const codes = { DNF_VERSION_DIFFERS: 'A note: the twin has another version of an rpm package than the machine; nothing is changed' }
    const { config: oclif } = oclifWith({ successes: [{ plugin: { name: 'twinsync-plugin-dnf' }, result: [fakeProvider('dnf', { codes })] }], failures: [] })
    const set = await new ProviderRegistry(config, oclif).load()
    assert.deepEqual(set.diagnostics, [])
    const byName = new Map(set.providers.map((p) => [p.provider.name, p.codes]))
    assert.deepEqual(byName.get('dnf'), codes)
    assert.deepEqual(byName.get('os'), {}, 'a provider without codes has none')
    assert.ok(Object.keys(byName.get('files') ?? {}).length > 20 && Object.hasOwn(byName.get('files') ?? {}, 'FILES_MANIFEST_INVALID'), 'the files plugin declares its table')
    assert.ok(Object.hasOwn(byName.get('autostart') ?? {}, 'RC_LOCAL_MODE_ADJUSTED'), "autostart's code older than the prefix rule is listed")
    for (const name of ['apt', 'cron', 'systemd']) assert.ok(Object.keys(byName.get(name) ?? {}).length > 0, name)
  })

  it("names a plugin's code without its provider's name first, one of TwinSync's, or another provider's as the plugin's fault, and loads the provider with its other codes", async () => {
    const said = 'says what it means and the next step, at some length'
    const { config: oclif } = oclifWith({
      successes: [
        { plugin: { name: 'twinsync-plugin-dnf' }, result: [fakeProvider('dnf', { codes: { DNF_OK: said, VERSION_DIFFERS: said, PLAN_INVALID: said, DNF_SILENT: '', DNF_EXTRA_GONE: said } })] },
        { plugin: { name: 'twinsync-plugin-more' }, result: [fakeProvider('dnf-extra', { codes: { DNF_EXTRA_GONE: said, DNF_EXTRA_KEPT: said } }), fakeProvider('rc-local', { codes: { RC_LOCAL_MODE_ADJUSTED: said } })] },
      ],
      failures: [],
    })
    const set = await new ProviderRegistry(config, oclif).load()
    const names = set.providers.map((p) => p.provider.name)
    for (const name of ['dnf', 'dnf-extra', 'rc-local']) assert.ok(names.includes(name), `${name} still loads`)
    assert.deepEqual(set.providers.find((p) => p.provider.name === 'dnf')?.codes, { DNF_OK: said })
    assert.deepEqual(set.providers.find((p) => p.provider.name === 'dnf-extra')?.codes, { DNF_EXTRA_GONE: said, DNF_EXTRA_KEPT: said }, "the code named for dnf-extra is dnf-extra's")
    assert.deepEqual(set.providers.find((p) => p.provider.name === 'rc-local')?.codes, {}, "the bundled autostart's code is not another provider's")
    assert.deepEqual(
      set.diagnostics.map((d) => [d.severity, d.code, d.provider, d.summary]),
      [
        ['warning', 'PROVIDER_FAILED', 'dnf', 'The dnf provider of twinsync-plugin-dnf declares codes TwinSync does not list: "VERSION_DIFFERS" does not start with DNF_ (the provider\'s name); "PLAN_INVALID" is one of TwinSync\'s own codes (describe lists them): use it without declaring it, or name yours apart; "DNF_SILENT" does not say what it means (its description is not a text, or empty); "DNF_EXTRA_GONE" is named for the dnf-extra provider (DNF_EXTRA_, longer than DNF_)'],
        ['warning', 'PROVIDER_FAILED', 'rc-local', 'The rc-local provider of twinsync-plugin-more declares codes TwinSync does not list: "RC_LOCAL_MODE_ADJUSTED" is named for the autostart provider (named before the prefix rule)'],
      ],
    )
    assert.match(set.diagnostics[0]?.detail ?? '', /^A fault in the dnf provider, not in TwinSync: a provider's own codes start with its name in capitals \(DNF_\)/)
  })

  // Session 49's review, C2: codes were first come by load order, and prefixes nest ("files" gives
  // FILES_, a plugin "files-extra" FILES_EXTRA_): with that plugin loaded first, the bundled files
  // provider declaring FILES_EXTRA_X would be the one blamed ("a fault in the files provider").
  // Two plugins here (dnf, dnf-extra), so the test sets the load order both ways.
  it('gives a code to the provider whose name is its longest prefix, whatever the load order (dnf beside dnf-extra)', async () => {
    const said = 'says what it means and the next step, at some length'
    const dnf = fakeProvider('dnf', { codes: { DNF_OK: said, DNF_EXTRA_X: said } })
    const extra = fakeProvider('dnf-extra', { codes: { DNF_EXTRA_X: said, DNF_EXTRA_Y: said } })
    const outcomes: string[] = []
    for (const order of [[dnf, extra], [extra, dnf]]) {
      const { config: oclif } = oclifWith({ successes: order.map((p) => ({ plugin: { name: `twinsync-plugin-${p.name}` }, result: [p] })), failures: [] })
      const set = await new ProviderRegistry(config, oclif).load()
      const which = order.map((p) => p.name).join(' then ')
      const codes = Object.fromEntries(set.providers.filter((p) => p.provider.name.startsWith('dnf')).sort((a, b) => a.provider.name.localeCompare(b.provider.name)).map((p) => [p.provider.name, p.codes]))
      assert.deepEqual(codes, { dnf: { DNF_OK: said }, 'dnf-extra': { DNF_EXTRA_X: said, DNF_EXTRA_Y: said } }, which)
      const blamed = set.diagnostics.map((d) => [d.severity, d.code, d.provider, d.summary])
      assert.deepEqual(blamed, [['warning', 'PROVIDER_FAILED', 'dnf', 'The dnf provider of twinsync-plugin-dnf declares codes TwinSync does not list: "DNF_EXTRA_X" is named for the dnf-extra provider (DNF_EXTRA_, longer than DNF_)']], which)
      outcomes.push(JSON.stringify([codes, blamed]))
    }
    assert.equal(outcomes[1], outcomes[0], 'the same in both load orders')
  })

  // Session 49's review, C1: only the declared table was judged; at run time a diagnostic could
  // carry any code (one never declared, another provider's FILES_…) and nothing said so.
  it("warns once per run of a code a provider's diagnostics carry that is neither TwinSync's nor its own (its table; none declared: its prefix), the diagnostic kept", async () => {
    const said = 'says what it means and the next step, at some length'
    const diagnostic = (code: string): Diagnostic => ({ severity: 'warning', code, summary: `${code} said` })
    const tabled = fakeProvider('rpmx', { codes: { RPMX_OK: said } })
    const bare = fakeProvider('debx')
    const { config: oclif } = oclifWith({ successes: [{ plugin: { name: 'twinsync-plugin-rpmx' }, result: [tabled, bare] }], failures: [] })
    await new ProviderRegistry(config, oclif).load()
    const given = ['RPMX_OK', 'PLAN_INVALID', 'RPMX_NEVER_DECLARED', 'FILES_NOT_MIRRORED']
    const first = await callProvider(tabled, 'collect', async () => ({ state: {}, documents: [], diagnostics: given.map(diagnostic) }))
    assert.ok(first.ok)
    const codes = first.value.diagnostics.map((d) => [d.severity, d.code, d.provider, d.summary])
    assert.deepEqual(codes.slice(0, 4), given.map((c) => ['warning', c, undefined, `${c} said`]), "the provider's diagnostics as it gave them")
    assert.deepEqual(codes.slice(4), [
      ['warning', 'PROVIDER_FAILED', 'rpmx', "The rpmx provider of twinsync-plugin-rpmx gave a diagnostic with code RPMX_NEVER_DECLARED, which is neither TwinSync's nor its own"],
      ['warning', 'PROVIDER_FAILED', 'rpmx', "The rpmx provider of twinsync-plugin-rpmx gave a diagnostic with code FILES_NOT_MIRRORED, which is neither TwinSync's nor its own (it is named for the files provider)"],
    ])
    assert.match(first.value.diagnostics[4]?.detail ?? '', /^A fault in the rpmx provider, not in TwinSync: .*its codes are those of its table/)
    // Once per run: a later call (an apply's results too) saying the same codes adds nothing; a new one is said.
    const again = await callProvider(tabled, 'apply', async (): Promise<ApplyResult> => ({ results: [{ id: 'x', status: 'applied', diagnostics: [diagnostic('RPMX_NEVER_DECLARED'), diagnostic('RPMX_OTHER')] }], diagnostics: [] }))
    assert.ok(again.ok)
    assert.deepEqual(again.value.diagnostics.map((d) => d.summary), ["The rpmx provider of twinsync-plugin-rpmx gave a diagnostic with code RPMX_OTHER, which is neither TwinSync's nor its own"])
    // No table declared: its own prefix is its own; another provider's, or none, is not.
    const listed = await callProvider(bare, 'reviewPlan', async () => [diagnostic('DEBX_ANYTHING'), diagnostic('APT_VERSION_DIFFERS'), diagnostic('UNPREFIXED_CODE')])
    assert.ok(listed.ok)
    assert.deepEqual(listed.value.map((d) => d.code), ['DEBX_ANYTHING', 'APT_VERSION_DIFFERS', 'UNPREFIXED_CODE', 'PROVIDER_FAILED', 'PROVIDER_FAILED'])
    assert.deepEqual(listed.value.slice(3).map((d) => d.summary), [
      "The debx provider of twinsync-plugin-rpmx gave a diagnostic with code APT_VERSION_DIFFERS, which is neither TwinSync's nor its own (it is named for the apt provider)",
      "The debx provider of twinsync-plugin-rpmx gave a diagnostic with code UNPREFIXED_CODE, which is neither TwinSync's nor its own",
    ])
    assert.match(listed.value[3]?.detail ?? '', /it declares no codes, so its own are those that start with DEBX_/)
  })

  it("names a plugin's provider whose fields throw as it is read (a getter of codes, of its name) as the plugin's fault, and loads the others (session 49's review, C3)", async () => {
    const throwing = (field: string) => () => {
      throw new Error(`${field} is not here`)
    }
    const codesThrow = fakeProvider('dnf')
    Object.defineProperty(codesThrow, 'codes', { get: throwing('codes') })
    const nameThrows = fakeProvider('flatpak')
    Object.defineProperty(nameThrows, 'name', { get: throwing('name') })
    const { config: oclif } = oclifWith({
      successes: [
        { plugin: { name: 'twinsync-plugin-dnf' }, result: [codesThrow] },
        { plugin: { name: 'twinsync-plugin-flatpak' }, result: [nameThrows, fakeProvider('snap')] },
      ],
      failures: [],
    })
    const set = await new ProviderRegistry(config, oclif).load()
    const names = set.providers.map((p) => p.provider.name)
    assert.ok(names.includes('dnf') && names.includes('snap') && names.includes('os'), names.join(', '))
    assert.deepEqual(set.providers.find((p) => p.provider.name === 'dnf')?.codes, {})
    assert.deepEqual(
      set.diagnostics.map((d) => [d.severity, d.code, d.provider, d.summary]),
      [
        ['error', 'PROVIDER_FAILED', 'twinsync-plugin-flatpak', 'twinsync-plugin-flatpak returned an invalid provider: reading it threw: name is not here'],
        ['warning', 'PROVIDER_FAILED', 'dnf', 'The dnf provider of twinsync-plugin-dnf declares codes TwinSync does not list: reading them failed: codes is not here'],
      ],
    )
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
