// core/bin/plugin-module.js: oclif's ModuleLoader (core/bundle/oclif.cjs) loads a plugin's ES
// module files with require() where Node does that silently, and with import() otherwise and on
// any failure. The bundled loader runs in a plain node process here, as `twinsync` runs it (the
// mocha process has tsx's require hook, which the module must not use).
import { strict as assert } from 'node:assert'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { cliSandbox, json } from '../../test/support/cli.js'

const core = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const { importPluginModule, requireLoadsEsmSilently } = require('../bin/plugin-module.js') as {
  importPluginModule(filePath: string): Promise<Record<string, unknown>>
  requireLoadsEsmSilently(version: string, features: { require_module?: boolean }, execArgv: string[], nodeOptions?: string): boolean
}

interface Loaded {
  /** Whether require() loaded it (Node keeps a required ES module in require's cache). */
  required: boolean
  names: string[]
  answer?: unknown
  error?: string
  evaluated: number
}

/** Load each file through the bundled oclif's ModuleLoader (as a plugin's hook) in a plain node process. */
async function loadInNode(files: string[]): Promise<{ loaded: Loaded[]; stderr: string }> {
  const script = `
const Module = require('node:module')
const oclif = require(${JSON.stringify(join(core, 'bundle', 'oclif.cjs'))})
;(async () => {
  const loaded = []
  for (const file of process.argv.slice(1)) {
    try {
      const { module: m, isESM } = await oclif.ModuleLoader.loadWithData({ type: 'user', root: require('node:path').dirname(file) }, file)
      if (!isESM) throw new Error('not an ES module')
      loaded.push({ required: Module._cache[file] !== undefined, names: Object.keys(m).sort(), answer: await m.default(), evaluated: globalThis.evaluated[file] })
    } catch (error) {
      loaded.push({ required: Module._cache[file] !== undefined, names: [], error: error.message, evaluated: globalThis.evaluated?.[file] ?? 0 })
    }
  }
  // What import() gives afterwards: the same instance, never evaluated again.
  for (const [i, file] of process.argv.slice(1).entries()) {
    try { await import(require('node:url').pathToFileURL(file).href) } catch {}
    if (globalThis.evaluated?.[file] !== loaded[i].evaluated) loaded[i].evaluated = -1
  }
  process.stdout.write(JSON.stringify(loaded))
})()`
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script, ...files], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
  })
  return { loaded: JSON.parse(stdout) as Loaded[], stderr }
}

/** A plugin package (an ES module package) whose hook imports a module beside it and the SDK. */
async function writePlugin(dir: string, hook: string): Promise<string> {
  await mkdir(join(dir, 'node_modules', '@twinsync'), { recursive: true })
  await symlink(await realpath(join(core, '..', 'sdk')), join(dir, 'node_modules', '@twinsync', 'sdk'), 'dir')
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'twinsync-plugin-t', version: '1.0.0', type: 'module' }))
  await writeFile(join(dir, 'beside.js'), "export const word = 'beside'\n")
  const count = 'globalThis.evaluated ??= {}; globalThis.evaluated[fileURLToPath(import.meta.url)] = (globalThis.evaluated[fileURLToPath(import.meta.url)] ?? 0) + 1\n'
  await writeFile(join(dir, 'hook.js'), `import { fileURLToPath } from 'node:url'\nimport { word } from './beside.js'\nimport { stableStringify } from '@twinsync/sdk'\n${count}${hook}\n`)
  return join(dir, 'hook.js')
}

describe("a plugin's ES modules loaded by oclif's ModuleLoader (core/bin/plugin-module.js)", function () {
  this.timeout(60_000)
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-plugin-module-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('loads a plugin with require(), outside and inside node_modules, printing nothing; with top-level await or a failure through import(), as before', async () => {
    const answer = 'export default async function hook() { return stableStringify({ word }) }'
    const linked = await writePlugin(join(dir, 'linked'), answer)
    const installed = await writePlugin(join(dir, 'data', 'node_modules', 'twinsync-plugin-t'), answer)
    const awaits = await writePlugin(join(dir, 'awaits'), `await new Promise((resolve) => setTimeout(resolve, 5))\n${answer}`)
    const throws = await writePlugin(join(dir, 'throws'), `throw new Error('the plugin broke at load')\n${answer}`)
    const missing = await writePlugin(join(dir, 'missing'), `import './not-there.js'\n${answer}`)
    const { loaded, stderr } = await loadInNode([linked, installed, awaits, throws, missing])
    assert.equal(stderr, '', 'no warning of any kind')
    const [a, b, c, d, e] = loaded as [Loaded, Loaded, Loaded, Loaded, Loaded]
    for (const plain of [a, b]) {
      assert.deepEqual(plain, { required: true, names: ['__esModule', 'default'], answer: '{\n  "word": "beside"\n}\n', evaluated: 1 })
    }
    assert.deepEqual(c, { required: false, names: ['default'], answer: '{\n  "word": "beside"\n}\n', evaluated: 1 }, 'top-level await: import()')
    assert.deepEqual(d, { required: false, names: [], error: 'the plugin broke at load', evaluated: 1 }, "the plugin's own error, as import() gives it")
    assert.equal(e.required, false)
    assert.match(e.error ?? '', /^\[MODULE_NOT_FOUND\] import\(\) failed to load .*hook\.js: Cannot find module '.*not-there\.js' imported from .*hook\.js$/)
  })

  it("compiles a plugin's CommonJS file from the code cache, its SDK the host's only where Node's require would find the host's; import() and a syntax error left to Node's require", async () => {
    const host = await realpath(join(core, '..', 'sdk'))
    /** A CommonJS plugin file in `name`/dist whose nearest node_modules/@twinsync/sdk is `sdk`. */
    const plugin = async (name: string, sdk: string | undefined, body: string) => {
      await mkdir(join(dir, name, 'dist', 'node_modules'), { recursive: true })
      await mkdir(join(dir, name, 'node_modules', '@twinsync'), { recursive: true })
      if (sdk !== undefined) await symlink(sdk, join(dir, name, 'node_modules', '@twinsync', 'sdk'), 'dir')
      await writeFile(join(dir, name, 'dist', 'hook.cjs'), body)
      return join(dir, name, 'dist', 'hook.cjs')
    }
    // Another package named @twinsync/sdk: what Node's require finds there must be what the plugin gets.
    const other = join(dir, 'other-sdk')
    await mkdir(other)
    await writeFile(join(other, 'package.json'), JSON.stringify({ name: '@twinsync/sdk', version: '9.0.0', exports: { '.': { require: './other.cjs' } } }))
    await writeFile(join(other, 'other.cjs'), 'module.exports = { other: true }\n')
    const sdkAnswer = "const sdk = require('@twinsync/sdk')\nexports.answer = () => sdk.other === true ? 'other' : sdk === require('@twinsync/sdk/cjs').index() ? 'host' : 'neither'\n"
    const files = [
      await plugin('linked', host, sdkAnswer),
      await plugin('elsewhere', other, sdkAnswer),
      await plugin('dynamic', host, `${sdkAnswer}exports.later = () => import('node:os').then((os) => typeof os.cpus)\n`),
      await plugin('broken', host, 'exports.answer = () => {\n'),
      await plugin('dangling', join(dir, 'nowhere'), sdkAnswer),
    ]
    const script = `
const { join } = require('node:path')
const bin = ${JSON.stringify(join(core, 'bin'))}
const cache = require(join(bin, 'code-cache.js'))
// As bin/run.js sets up a run: the SDK from the code cache, provided; the run's variant.
cache.provide('@twinsync/sdk/cjs', cache.requireCached(${JSON.stringify(join(host, 'bundle', 'sdk.cjs'))}, 'test').exports)
cache.provideFile('@twinsync/sdk/package.json', ${JSON.stringify(join(host, 'package.json'))})
cache.setPluginVariant('test')
const oclif = require(${JSON.stringify(join(core, 'bundle', 'oclif.cjs'))})
;(async () => {
  const out = []
  for (const file of process.argv.slice(1)) {
    try {
      const { module: m, isESM } = await oclif.ModuleLoader.loadWithData({ type: 'user', root: require('node:path').dirname(file) }, file)
      out.push({ isESM, answer: m.answer(), later: m.later === undefined ? undefined : await m.later() })
    } catch (error) {
      out.push({ error: error.message.split('\\n')[0] })
    }
  }
  cache.saveCaches()
  process.stdout.write(JSON.stringify(out))
})()`
    const home = join(dir, 'home')
    await mkdir(home, { mode: 0o700 })
    const runs: Array<Array<{ isESM?: boolean; answer?: string; later?: string; error?: string }>> = []
    for (let i = 0; i < 2; i++) {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script, ...files], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home } })
      assert.equal(stderr, '', 'no warning of any kind')
      runs.push(JSON.parse(stdout))
    }
    for (const out of runs) {
      assert.deepEqual(out.slice(0, 3), [
        { isESM: false, answer: 'host' },
        { isESM: false, answer: 'other' },
        { isESM: false, answer: 'host', later: 'function' },
      ])
      assert.match(out[3]?.error ?? '', /Unexpected end of input/, `Node's own error for a file that does not compile: ${JSON.stringify(out[3])}`)
      assert.match(out[4]?.error ?? '', /Cannot find module '@twinsync\/sdk'/, `a link that leads nowhere: Node's own error: ${JSON.stringify(out[4])}`)
    }
    // The two files that compiled and ran here got a code cache each (the SDK given or resolved), named by their folders; the one calling import(), the broken one and the one that threw did not.
    const caches = (await readdir(join(home, '.cache', 'twinsync', 'v8'))).filter((f) => f.startsWith('plugin-'))
    assert.equal(caches.length, 2, caches.join(' '))
    assert.ok(caches.every((f) => /^plugin-[0-9a-f]{16}-hook\.cjs-[0-9a-f]{32}-test$/.test(f)), caches.join(' '))
  })

  it('uses require() only on a Node that prints nothing for it', () => {
    const on = { require_module: true }
    assert.equal(requireLoadsEsmSilently('20.19.0', on, []), true)
    assert.equal(requireLoadsEsmSilently('20.20.2', on, [], '--max-old-space-size=100'), true)
    assert.equal(requireLoadsEsmSilently('22.13.1', on, []), true)
    assert.equal(requireLoadsEsmSilently('24.1.0', on, []), true)
    assert.equal(requireLoadsEsmSilently('22.12.0', on, []), false, '22.12 warns outside node_modules')
    assert.equal(requireLoadsEsmSilently('23.4.0', on, []), false)
    assert.equal(requireLoadsEsmSilently('20.18.0', on, []), false)
    assert.equal(requireLoadsEsmSilently('20.20.2', {}, []), false, '--no-experimental-require-module')
    assert.equal(requireLoadsEsmSilently('20.20.2', on, ['--trace-require-module=all']), false)
    assert.equal(requireLoadsEsmSilently('20.20.2', on, [], '--trace-require-module=no-node-modules'), false)
    // A preloaded module may register ES module hooks, which require() would pass over.
    for (const preload of [['--import', 'x.mjs'], ['--import=x.mjs'], ['--loader', 'x.mjs'], ['--experimental-loader=x.mjs']]) {
      assert.equal(requireLoadsEsmSilently('20.20.2', on, preload), false, preload.join(' '))
      assert.equal(requireLoadsEsmSilently('20.20.2', on, [], preload.join(' ')), false, `NODE_OPTIONS=${preload.join(' ')}`)
    }
  })

  it('uses import() when a preloaded module registered ES module hooks: the plugin\'s module as the hooks give it', async () => {
    // Before, require() loaded the plugin's module past the hooks, and import() gave that instance from then on.
    const hook = await writePlugin(join(dir, 'rewritten'), "export default async function hook() { return 'original' }")
    await writeFile(join(dir, 'hooks.mjs'), "export async function load(url, context, next) {\n  const r = await next(url, context)\n  return url.endsWith('/rewritten/hook.js') ? { ...r, source: String(r.source).replace(\"'original'\", \"'from the hook'\") } : r\n}\n")
    await writeFile(join(dir, 'register.mjs'), "import { register } from 'node:module'\nregister('./hooks.mjs', import.meta.url)\n")
    const script = `require(${JSON.stringify(join(core, 'bin', 'plugin-module.js'))}).importPluginModule(process.argv[1]).then(async (m) => process.stdout.write(await m.default()))`
    for (const how of [{ args: ['--import', join(dir, 'register.mjs')], env: {} }, { args: [], env: { NODE_OPTIONS: `--import=${join(dir, 'register.mjs')}` } }]) {
      const { stdout } = await promisify(execFile)(process.execPath, [...how.args, '-e', script, hook], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), ...how.env } })
      assert.equal(stdout, 'from the hook')
    }
  })

  it('uses import() when a require hook compiles .js files (tsx here): one instance, evaluated once', async () => {
    const hook = await writePlugin(join(dir, 'hooked'), 'export default async function hook() { return word }')
    const m = await importPluginModule(hook)
    assert.deepEqual(Object.keys(m), ['default'])
    assert.equal(await (m.default as () => Promise<string>)(), 'beside')
    assert.equal((globalThis as { evaluated?: Record<string, number> }).evaluated?.[await realpath(hook)], 1)
  })

  // bin/run.js (session 38): a run with a user's plugin keeps code caches of its own. Before, the
  // one oclif cache every command shares, written by a run without the plugin, was taken by the
  // plugin's runs too, and oclif's plugin loader was compiled from source in every one of them.
  it("a run with a user's plugin reads code caches a run with the plugin wrote: nothing of oclif.cjs compiled beyond its cache", async () => {
    const cli = await cliSandbox()
    try {
      await mkdir(join(dir, 'root', 'etc'), { recursive: true })
      const providers = ['providers', '--json', '--root', join(dir, 'root'), '--repo', cli.twinDir]
      // Without a plugin first: the caches of that run are written.
      assert.equal((await cli.twinsync(providers)).code, 0)
      await writePlugin(join(dir, 'plain'), 'export default async function hook() { return { providers: [] } }')
      await writeFile(join(dir, 'plain', 'package.json'), JSON.stringify({ name: 'twinsync-plugin-plain', version: '1.0.0', type: 'module', oclif: { hooks: { 'twinsync:providers': './hook.js' } } }))
      assert.equal((await cli.twinsync(['plugins', 'link', join(dir, 'plain')])).code, 0)
      assert.equal((await cli.twinsync(providers)).code, 0)
      // What each bundle's cache held when read, and what V8 would write for it at the end of the run.
      const probe = join(dir, 'grown.cjs')
      await writeFile(
        probe,
        "const vm = require('node:vm'); const Script = vm.Script; const all = []\n" +
          'vm.Script = class extends Script { constructor(source, options) { super(source, options); all.push([options.filename, options.cachedData?.length ?? 0, this.cachedDataRejected === true, this]) } }\n' +
          "process.on('exit', () => process.stderr.write(JSON.stringify(all.map(([file, held, refused, script]) => ({ file: require('node:path').basename(file), held, refused, now: script.createCachedData().length })))))\n",
      )
      const r = await cli.twinsync(providers, { env: { NODE_OPTIONS: `--require=${probe}` } })
      assert.equal(r.code, 0, r.stderr)
      const caches = JSON.parse(r.stderr) as Array<{ file: string; held: number; refused: boolean; now: number }>
      const oclif = caches.find((c) => c.file === 'oclif.cjs')
      assert.ok(oclif !== undefined && oclif.held > 0 && !oclif.refused, JSON.stringify(caches))
      // A few bytes move from run to run (feedback, names); oclif's plugin loader is 10-50 KB.
      assert.ok(oclif.now - oclif.held < 2048, `oclif.cjs compiled ${oclif.now - oclif.held} bytes of code beyond its cache: ${JSON.stringify(caches)}`)
      const names = await readdir(join(cli.dir, '.cache', 'twinsync', 'v8'))
      assert.ok(names.some((n) => /^oclif\.cjs-[0-9a-f]{32}-run\.plugins$/.test(n)) && names.some((n) => /^oclif\.cjs-[0-9a-f]{32}-run$/.test(n)), names.join(' '))
    } finally {
      await cli.cleanup()
    }
  })

  it('twinsync finds the providers of a linked plugin loaded by require() and of one with top-level await, twice (code cache), printing no warning', async () => {
    const cli = await cliSandbox()
    try {
      const provider = (name: string) =>
        `export default async function hook() { return { providers: [{ name: '${name}', version: '1.0.0', category: 'packages', twinPaths: ['system/packages/${name}.json'], ` +
        `detect: async () => ({ detected: false, reason: word, diagnostics: [] }), collect: async () => ({ state: {}, documents: [], diagnostics: [] }) }] } }`
      await writePlugin(join(dir, 'plain'), provider('plainesm'))
      await writePlugin(join(dir, 'tla'), `await Promise.resolve()\n${provider('awaitesm')}`)
      for (const name of ['plain', 'tla']) {
        await writeFile(join(dir, name, 'package.json'), JSON.stringify({ name: `twinsync-plugin-${name}`, version: '1.0.0', type: 'module', oclif: { hooks: { 'twinsync:providers': './hook.js' } } }))
        const r = await cli.twinsync(['plugins', 'link', join(dir, name)])
        assert.equal(r.code, 0, r.stderr)
      }
      await mkdir(join(dir, 'root', 'etc'), { recursive: true })
      for (let i = 0; i < 2; i++) {
        const r = await cli.twinsync(['providers', '--json', '--root', join(dir, 'root'), '--repo', cli.twinDir])
        assert.doesNotMatch(r.stderr, /Warning/)
        const out = json<{ providers: Array<{ name: string; source: string }> }>(r)
        assert.deepEqual(
          out.providers.filter((p) => p.name.endsWith('esm')).map((p) => `${p.name} ${p.source}`),
          ['plainesm twinsync-plugin-plain', 'awaitesm twinsync-plugin-tla'],
        )
      }
      // With the plugin loaded by require() alone (and its SDK link in place), the run starts no
      // thread pool, as a run without plugins starts none (import() reads files through it).
      assert.equal((await cli.twinsync(['plugins', 'unlink', 'twinsync-plugin-tla'])).code, 0)
      const probe = join(dir, 'threads.cjs')
      await writeFile(probe, "const at = require('fs').readdirSync('/proc/self/task').length\nprocess.on('exit', () => process.stderr.write(`threads ${at} ${require('fs').readdirSync('/proc/self/task').length}`))\n")
      const r = await cli.twinsync(['providers', '--json', '--root', join(dir, 'root'), '--repo', cli.twinDir], { env: { NODE_OPTIONS: `--require=${probe}` } })
      assert.deepEqual(json<{ providers: Array<{ name: string }> }>(r).providers.filter((p) => p.name.endsWith('esm')).map((p) => p.name), ['plainesm'])
      const [, at, end] = /threads (\d+) (\d+)/.exec(r.stderr) ?? []
      assert.ok(at !== undefined && at === end, r.stderr)
    } finally {
      await cli.cleanup()
    }
  })
})
