import { strict as assert } from 'node:assert'
import { readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { repoRoot, run, runOk } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

/** `twinsync plugins new` scaffolds a plugin that type-checks, passes the conformance kit and installs. */
describe('twinsync plugins new', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  // Inside the repository (.test-tmp is ignored) so the scaffold resolves @twinsync/sdk without an npm install.
  const dir = join(repoRoot, '.test-tmp', `plugins-new-${process.pid}`)
  before(async () => {
    cli = await cliSandbox()
  })
  after(async () => {
    await cli.cleanup()
    await rm(dir, { recursive: true, force: true })
  })

  it('writes package.json, tsconfig, hook, provider, conformance test and README', async () => {
    const r = await cli.twinsync(['plugins', 'new', 'twinsync-plugin-widgets', '--dir', dir, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ provider: string; files: string[] }>(r)
    assert.equal(out.provider, 'widgets')
    assert.deepEqual(out.files.sort(), ['README.md', 'package.json', 'src/hook.ts', 'src/provider.ts', 'test/provider.test.ts', 'tsconfig.json'])
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string>; oclif: { hooks: Record<string, string> } }
    assert.equal(pkg.peerDependencies['@twinsync/sdk'], '^0.1.0')
    assert.equal(pkg.oclif.hooks['twinsync:providers'], './dist/hook.cjs', 'the build docs/plugin-authoring.md recommends: one CommonJS file')
    assert.match(await readFile(join(dir, 'tsconfig.json'), 'utf8'), /"skipLibCheck": true/)
  })

  it('type-checks and builds (its own `npm run build`: one CommonJS file, the SDK left out), and its own conformance test passes', async () => {
    await runOk(['npm', 'run', 'build'], { cwd: dir, timeoutMs: 300_000 })
    assert.deepEqual(await readdir(join(dir, 'dist')), ['hook.cjs'])
    assert.match(await readFile(join(dir, 'dist', 'hook.cjs'), 'utf8'), /require\("@twinsync\/sdk"\)/)
    const test = await run(['npx', 'mocha', '--no-config', '--node-option', 'import=tsx', '--timeout', '120000', join(dir, 'test/provider.test.ts')], { cwd: repoRoot, timeoutMs: 300_000 })
    assert.equal(test.code, 0, test.stdout + test.stderr)
    assert.match(test.stdout, /1 passing/)
  })

  it('installs from its packed tarball and the provider is listed', async () => {
    await runOk(['npm', 'pack', '--ignore-scripts', '--silent'], { cwd: dir })
    const install = await cli.twinsync(['plugins', 'install', './twinsync-plugin-widgets-0.1.0.tgz'], { cwd: dir })
    assert.equal(install.code, 0, install.stderr)
    // oclif checks that every `files` entry exists after install: a glob there (dist/**/*.js) warns on every install.
    assert.doesNotMatch(install.stderr, /Warning|may not work as expected/, install.stderr)
    const r = await cli.twinsync(['providers', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(json<{ providers: Array<{ name: string; source: string }> }>(r).providers.some((p) => p.name === 'widgets' && p.source === 'twinsync-plugin-widgets'))
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
