// What an installed plugin costs the commands that do not use it (issue 22, "a plugin adds ≤ 10 ms"):
// examples/twinsync-plugin-dnf builds its schemas when first used and the core reads a provider's
// `configSchema` only where it is used (core/src/collect/context-factory.ts), so with the plugin
// installed on a root without dnf an unchanged snapshot, `plan` and `status` still load no typebox
// (the SDK's sdk-lib.cjs); its config section is checked as before, and `twinsync config` shows
// its defaults (session 44).
import { strict as assert } from 'node:assert'
import { realpathSync } from 'node:fs'
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, makeTempDir, removeTree, repoRoot, run, runOk, type RunResult } from '../bed/index.js'
import { TWINSYNC_BIN, json, useCliRoot } from '../support/cli.js'

const PLUGIN_DIR = join(repoRoot, 'examples', 'twinsync-plugin-dnf')
const SDK_LIB = join(realpathSync(join(repoRoot, 'sdk', 'bundle')), 'sdk-lib.cjs')

describe('an installed plugin whose schemas are built when first used (the dnf example)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({ init: false })
  let work: string

  before(async () => {
    work = await makeTempDir('plugin-light')
    // The example's own bundle step (its package.json's build after the type check), written
    // here rather than into the example's dist/, which dnf-plugin.test.ts and the bench build too.
    const pkg = join(work, 'package')
    await mkdir(join(pkg, 'dist'), { recursive: true })
    const scripts = (JSON.parse(await readFile(join(PLUGIN_DIR, 'package.json'), 'utf8')) as { scripts: { build: string } }).scripts
    const bundle = scripts.build.split(' && ').find((s) => s.startsWith('esbuild ')) ?? ''
    assert.ok(bundle.includes('--outfile=dist/hook.cjs'), scripts.build)
    await runOk(['sh', '-c', `PATH=${join(repoRoot, 'node_modules', '.bin')}:$PATH ${bundle.replace('--outfile=dist/hook.cjs', `--outfile=${join(pkg, 'dist', 'hook.cjs')}`)}`], { cwd: PLUGIN_DIR, timeoutMs: 120_000 })
    for (const f of ['package.json', 'README.md']) await copyFile(join(PLUGIN_DIR, f), join(pkg, f))
    await runOk(['npm', 'pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: pkg, timeoutMs: 120_000 })
    const tarball = (await readdir(work)).find((f) => /^twinsync-plugin-dnf-.*\.tgz$/.test(f)) as string
    const install = await root().cli.twinsync(['plugins', 'install', `./${tarball}`], { cwd: work })
    assert.equal(install.code, 0, install.stderr)
    const init = await root().twinsync('snapshot', '--init')
    assert.equal(init.code, 0, init.stderr)
  })
  after(() => (work === undefined ? undefined : removeTree(work)))

  /** The command's exit, output and every file in require's cache at its exit. */
  async function traced(...args: string[]): Promise<RunResult & { loaded: string[] }> {
    const out = join(work, 'loaded.json')
    const trace = join(work, 'trace.cjs')
    await writeFile(trace, "process.on('exit', () => require('node:fs').writeFileSync(process.env.TRACE_OUT, JSON.stringify(Object.keys(require.cache))))\n")
    const r = await run(['node', '-r', trace, TWINSYNC_BIN, ...args, '--root', root().rootfs.dir, '--repo', root().twinDir], { env: root().cli.env({ TRACE_OUT: out }), timeoutMs: 120_000 })
    return { ...r, loaded: JSON.parse(await readFile(out, 'utf8')) as string[] }
  }

  it("an unchanged snapshot, plan and status load the plugin and no typebox (the SDK's sdk-lib.cjs), from source and from the code cache", async () => {
    for (const pass of ['first run', 'from the code cache']) {
      const snapshot = await traced('snapshot', '--json')
      assert.equal(snapshot.code, 0, snapshot.stderr)
      const out = json<{ commit?: string; providers: Array<{ name: string; status: string }> }>(snapshot)
      assert.equal(out.commit, undefined, snapshot.stdout)
      assert.deepEqual(out.providers.find((p) => p.name === 'dnf')?.status, 'not-detected', snapshot.stdout)
      assert.ok(snapshot.loaded.some((f) => f.endsWith('/twinsync-plugin-dnf/dist/hook.cjs')), `${pass}: the trace sees the plugin (${snapshot.loaded.join(', ')})`)
      for (const [what, r] of [['snapshot', snapshot], ['plan', await traced('plan', '--json')], ['status', await traced('status', '--json')]] as const) {
        assert.equal(r.code, 0, r.stderr)
        assert.ok(!r.loaded.includes(SDK_LIB), `${pass}: ${what} with the plugin loaded typebox (sdk-lib.cjs): the plugin built a schema as it loaded, or the core read its schema`)
      }
    }
  })

  it('its config section is still checked (a bad value: CONFIG_INVALID, exit 2), and `twinsync config` shows its defaults', async () => {
    try {
      await writeFile(root().cli.configFile, 'dnf:\n  timeoutMs: 5\n')
      const bad = await root().twinsync('snapshot')
      assert.equal(bad.code, 2, bad.stdout + bad.stderr)
      assert.match(bad.stderr, /error \[CONFIG_INVALID\] .*"dnf\.timeoutMs"/)
      await writeFile(root().cli.configFile, 'dnf:\n  releasever: "9"\n')
      const good = await root().twinsync('config', '--json')
      assert.equal(good.code, 0, good.stderr)
      assert.deepEqual(json<{ dnf: unknown }>(good).dnf, { timeoutMs: 1_800_000, releasever: '9' })
    } finally {
      await writeFile(root().cli.configFile, '{}\n')
    }
    const defaults = await root().twinsync('config', '--json')
    assert.equal(defaults.code, 0, defaults.stderr)
    assert.deepEqual(json<{ dnf: unknown }>(defaults).dnf, { timeoutMs: 1_800_000 })
  })
})
