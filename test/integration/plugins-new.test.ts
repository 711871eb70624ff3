import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, runOk } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

/**
 * In a scaffolded plugin's folder: its built hook called, then its provider's schemas read, and
 * whether typebox (the SDK's sdk-lib.cjs) was loaded after each.
 */
const SCHEMAS_WHEN_READ = `
const typebox = () => Object.keys(require.cache).some((f) => f.endsWith('/sdk-lib.cjs'))
require('./dist/hook.cjs').default().then(({ providers: [p] }) => {
  const typeboxAfterHook = typebox()
  const configType = p.configSchema.type
  const stateType = p.stateSchema.type
  console.log(JSON.stringify({ provider: p.name, typeboxAfterHook, configType, stateType, typeboxAfterSchemas: typebox() }))
})
`

/**
 * `twinsync plugins new` scaffolds a plugin that an author outside TwinSync's repository can
 * install, type-check, test with the conformance kit, build and install into TwinSync. Session
 * 18: it was only tried inside the repository, where @twinsync/sdk resolved from the workspace;
 * outside it, the author's first `npm install` failed (E404: the SDK is not on the registry).
 */
describe('twinsync plugins new', function () {
  this.timeout(600_000)
  let cli: CliSandbox
  let outside: string
  let dir: string
  before(async () => {
    cli = await cliSandbox()
    outside = await mkdtemp(join(tmpdir(), 'twinsync-author-'))
    dir = join(outside, 'twinsync-plugin-widgets')
  })
  after(async () => {
    await cli.cleanup()
    await rm(outside, { recursive: true, force: true })
  })

  it('writes package.json, tsconfig, hook, provider, its codes, conformance test and README', async () => {
    const r = await cli.twinsync(['plugins', 'new', 'twinsync-plugin-widgets', '--dir', dir, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ provider: string; files: string[] }>(r)
    assert.equal(out.provider, 'widgets')
    assert.deepEqual(out.files.sort(), ['README.md', 'package.json', 'src/codes.ts', 'src/hook.ts', 'src/provider.ts', 'test/provider.test.ts', 'tsconfig.json', 'vendor/twinsync-sdk-0.1.0.tgz'])
    // Its own codes in one table, each starting with its provider's name (docs/plugin-authoring.md), given by the provider.
    assert.match(await readFile(join(dir, 'src/codes.ts'), 'utf8'), /^export const WIDGETS_CODES = \{\n  WIDGETS_ITEM_IGNORED: '/m)
    assert.match(await readFile(join(dir, 'src/provider.ts'), 'utf8'), /\n  readonly codes = WIDGETS_CODES\n/)
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string>; devDependencies: Record<string, string>; oclif: { hooks: Record<string, string> } }
    assert.equal(pkg.peerDependencies['@twinsync/sdk'], '^0.1.0')
    assert.equal(pkg.devDependencies['@twinsync/sdk'], 'file:vendor/twinsync-sdk-0.1.0.tgz', 'the SDK is not on the registry: the plugin builds against TwinSync\'s own')
    const packed = (await runOk(['tar', '-tzf', join(dir, 'vendor/twinsync-sdk-0.1.0.tgz')])).stdout
    for (const file of ['package/package.json', 'package/bundle/index.js', 'package/bundle/sdk.cjs', 'package/dist/index.d.ts', 'package/dist/conformance-kit.d.ts']) assert.ok(packed.split('\n').includes(file), `${file} in the SDK tarball`)
    assert.equal(pkg.oclif.hooks['twinsync:providers'], './dist/hook.cjs', 'the build docs/plugin-authoring.md recommends: one CommonJS file')
    assert.match(await readFile(join(dir, 'tsconfig.json'), 'utf8'), /"skipLibCheck": true/)
  })

  it('installs its dependencies outside the repository, type-checks and builds (one CommonJS file, the SDK left out), and its own conformance test passes', async () => {
    // As its README says, from the npm cache where it can (the tools are TwinSync's own dev dependencies).
    const install = await run(['npm', 'install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, timeoutMs: 400_000 })
    assert.equal(install.code, 0, install.stdout + install.stderr)
    await runOk(['npm', 'run', 'build'], { cwd: dir, timeoutMs: 300_000 })
    assert.deepEqual(await readdir(join(dir, 'dist')), ['hook.cjs'])
    assert.match(await readFile(join(dir, 'dist', 'hook.cjs'), 'utf8'), /require\("@twinsync\/sdk"\)/)
    // Its schemas are built when first read, not as the hook loads: building one loads typebox (the
    // SDK's sdk-lib.cjs), which TwinSync would then load on every command (issue 22, session 44).
    const probe = await runOk(['node', '-e', SCHEMAS_WHEN_READ], { cwd: dir })
    assert.deepEqual(JSON.parse(probe.stdout), { provider: 'widgets', typeboxAfterHook: false, configType: 'object', stateType: 'object', typeboxAfterSchemas: true }, probe.stdout)
    const test = await run(['npm', 'test', '--', '--timeout', '120000'], { cwd: dir, timeoutMs: 300_000 })
    assert.equal(test.code, 0, test.stdout + test.stderr)
    assert.match(test.stdout, /2 passing/, 'the conformance kit (which judges its codes too), and its own code said')
  })

  it('installs from its packed tarball and the provider is listed, with its own codes (providers, describe)', async () => {
    await runOk(['npm', 'pack', '--ignore-scripts', '--silent'], { cwd: dir })
    const contents = (await runOk(['tar', '-tzf', join(dir, 'twinsync-plugin-widgets-0.1.0.tgz')])).stdout.trim().split('\n').sort()
    assert.deepEqual(contents, ['package/README.md', 'package/dist/hook.cjs', 'package/package.json'], 'the vendored SDK stays out of the plugin\'s package')
    const install = await cli.twinsync(['plugins', 'install', './twinsync-plugin-widgets-0.1.0.tgz'], { cwd: dir })
    assert.equal(install.code, 0, install.stderr)
    // oclif checks that every `files` entry exists after install: a glob there (dist/**/*.js) warns on every install.
    assert.doesNotMatch(install.stderr, /Warning|may not work as expected/, install.stderr)
    const r = await cli.twinsync(['providers', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const widgets = json<{ providers: Array<{ name: string; source: string; codes: Record<string, string> }> }>(r).providers.find((p) => p.name === 'widgets')
    assert.equal(widgets?.source, 'twinsync-plugin-widgets')
    assert.deepEqual(Object.keys(widgets?.codes ?? {}), ['WIDGETS_ITEM_IGNORED'])
    assert.deepEqual(r.stderr.match(/PROVIDER_FAILED.*/g) ?? [], [], 'TwinSync takes its codes as they are')
    const described = json<{ providerCodes: Record<string, { provider: string; plugin: string; description: string }> }>(await cli.twinsync(['describe']))
    assert.deepEqual({ ...described.providerCodes.WIDGETS_ITEM_IGNORED, description: undefined }, { provider: 'widgets', plugin: 'twinsync-plugin-widgets', description: undefined })
    assert.match((await cli.twinsync(['providers', '--codes'])).stdout, /\nCodes of the widgets provider \(twinsync-plugin-widgets\):\n  WIDGETS_ITEM_IGNORED  A line of \/etc\/widgets\/items is not an item name/)
  })

  it('without npm to pack the SDK: PLUGIN_SDK_PACK_FAILED, exit 2, nothing written', async () => {
    const bin = join(outside, 'bin')
    await mkdir(bin)
    await symlink(process.execPath, join(bin, 'node'))
    const where = join(outside, 'no-npm')
    const r = await cli.twinsync(['plugins', 'new', 'twinsync-plugin-gadgets', '--dir', where], { env: { PATH: bin } })
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, /\[PLUGIN_SDK_PACK_FAILED\] npm could not pack TwinSync's SDK/)
    assert.match(r.stderr, /Nothing was written/)
    assert.equal(existsSync(where), false)
  })

  it('refuses a name that is not twinsync-plugin-NAME, and a folder that is not empty (exit 2)', async () => {
    const bad = await cli.twinsync(['plugins', 'new', 'widgets'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /\[USAGE\] "widgets" is not a plugin package name/)
    const taken = await cli.twinsync(['plugins', 'new', 'twinsync-plugin-widgets', '--dir', dir])
    assert.equal(taken.code, 2)
    assert.match(taken.stderr, /exists and is not empty/)
  })
})
