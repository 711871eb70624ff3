// core/bin/oclif-config.js: a command of TwinSync's own, when the user has no plugin, gets oclif
// with TwinSync's plugin alone; anything else loads as oclif always does.
import { strict as assert } from 'node:assert'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Config, Plugin } from '@oclif/core'

const core = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const { dataDirOf, hasUserPlugins, loadOptions } = require('../bin/oclif-config.js') as {
  dataDirOf(pjson: unknown, env?: NodeJS.ProcessEnv): string
  hasUserPlugins(dataDir: string): boolean
  loadOptions(oclif: unknown, root: string, argv: string[], ownWords: string[]): Promise<{ root: string; pjson: unknown; plugins?: Map<string, Plugin> }>
}

interface Manifest {
  commands: Record<string, { id: string; aliases?: string[] }>
}

/** The first words bundle.mjs gives twinsync.cjs (OWN_WORDS). */
async function ownWords(): Promise<string[]> {
  const text = await readFile(join(core, 'bundle', 'twinsync.cjs'), 'utf8')
  const found = /OWN_WORDS ?= ?(\[[^\]]*\])/.exec(text)
  assert.ok(found, 'twinsync.cjs exports OWN_WORDS')
  return JSON.parse(found[1] as string) as string[]
}

describe('oclif with TwinSync alone for its own commands (core/bin/oclif-config.js)', function () {
  this.timeout(60_000)
  const saved = { ...process.env }
  let dir: string
  let pjson: { name: string; version: string; oclif: Record<string, unknown> }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-oclif-config-'))
    pjson = JSON.parse(await readFile(join(core, 'package.json'), 'utf8'))
  })
  afterEach(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
    await rm(dir, { recursive: true, force: true })
  })

  it("works out oclif's data folder as oclif's Config does", async () => {
    const cases: Array<Record<string, string | undefined>> = [
      { HOME: join(dir, 'home'), XDG_DATA_HOME: undefined, TWINSYNC_DATA_DIR: undefined },
      { HOME: join(dir, 'home'), XDG_DATA_HOME: join(dir, 'xdg'), TWINSYNC_DATA_DIR: undefined },
      { HOME: join(dir, 'home'), XDG_DATA_HOME: join(dir, 'xdg'), TWINSYNC_DATA_DIR: join(dir, 'data') },
      { HOME: join(dir, 'home'), XDG_DATA_HOME: '', TWINSYNC_DATA_DIR: '' },
    ]
    for (const env of cases) {
      for (const [key, value] of Object.entries(env)) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
      const root = new Plugin({ root: core, pjson, isRoot: true, type: 'core' })
      await root.load()
      const config = await Config.load({ root: core, pjson, plugins: new Map([[root.name, root]]) })
      assert.equal(dataDirOf(pjson), config.dataDir, JSON.stringify(env))
    }
  })

  it('sees a plugin of the user’s where oclif would load one (none, an empty list: none; anything odd: ask oclif)', async () => {
    const data = join(dir, 'data')
    assert.equal(hasUserPlugins(data), false, 'no folder')
    await mkdir(data)
    assert.equal(hasUserPlugins(data), false, 'no package.json')
    const pj = join(data, 'package.json')
    for (const [text, expected] of [
      ['{}', false],
      ['{"oclif":{"schema":1}}', false],
      ['{"oclif":{"plugins":[]}}', false],
      ['{"oclif":{"plugins":[{"name":"twinsync-plugin-demo","type":"user","tag":"latest"}]}}', true],
      ['{"oclif":{"plugins":[{"name":"demo","type":"link","root":"/src/demo"}]}}', true],
      ['{"oclif":', true],
      ['null', true],
    ] as const) {
      await writeFile(pj, text)
      assert.equal(hasUserPlugins(data), expected, text)
    }
    await rm(pj)
    await mkdir(pj)
    assert.equal(hasUserPlugins(data), true, 'a folder where package.json should be')
  })

  it("loads TwinSync's plugin (and the user's) only for its own first words", async () => {
    const oclif = require('../bundle/oclif.cjs') as unknown
    const words = await ownWords()
    process.env.TWINSYNC_DATA_DIR = join(dir, 'data')
    const alone = async (...argv: string[]) => (await loadOptions(oclif, core, argv, words)).plugins !== undefined
    assert.equal(await alone('snapshot', '--json'), true)
    assert.equal(await alone('history', '--help'), true)
    assert.equal(await alone('remote', 'set', 'x'), true)
    assert.equal(await alone('describe'), true)
    for (const argv of [[], ['--help'], ['plugins'], ['plugins', 'install', 'x'], ['plugins', 'new', 'x'], ['nonsense'], ['--version', '--json']]) {
      assert.equal(await alone(...argv), false, argv.join(' '))
    }
    const options = await loadOptions(oclif, core, ['snapshot'], words)
    assert.deepEqual([...(options.plugins?.keys() ?? [])], ['@twinsync/core'])

    await mkdir(join(dir, 'data'))
    await writeFile(join(dir, 'data', 'package.json'), JSON.stringify({ oclif: { plugins: [{ name: 'twinsync-plugin-demo', type: 'user', tag: 'latest' }] } }))
    assert.equal(await alone('snapshot'), false, "a plugin of the user's that is not installed: a full load (oclif warns)")
  })

  it("loads a user's plugins with oclif's own loader beside TwinSync's, and a plugin that fails to load makes it a full load", async () => {
    process.env.TWINSYNC_DATA_DIR = join(dir, 'data')
    const oclif = require('../bundle/oclif.cjs') as typeof import('@oclif/core')
    const words = await ownWords()
    const demo = join(core, '..', 'test', 'fixtures', 'plugins', 'twinsync-plugin-demo')
    await mkdir(join(dir, 'data'))
    // As `twinsync plugins link` records it.
    await writeFile(join(dir, 'data', 'package.json'), JSON.stringify({ private: true, oclif: { schema: 1, plugins: [{ type: 'link', name: 'twinsync-plugin-demo', root: demo }] } }))
    const options = await loadOptions(oclif, core, ['providers'], words)
    assert.deepEqual([...(options.plugins?.keys() ?? [])], ['@twinsync/core', 'twinsync-plugin-demo'])
    const fast = await oclif.Config.load(options as never)
    const full = await oclif.Config.load({ root: core })
    assert.deepEqual([...full.plugins.keys()], ['@twinsync/core', 'twinsync-plugin-demo', '@oclif/plugin-plugins'])
    const hooksOf = (c: typeof fast) => [...c.plugins.values()].filter((p) => p.name !== '@oclif/plugin-plugins').map((p) => [p.name, p.type, p.root, p.hooks])
    assert.deepEqual(hooksOf(fast), hooksOf(full))

    await writeFile(join(dir, 'data', 'package.json'), JSON.stringify({ oclif: { plugins: [{ type: 'link', name: 'gone', root: join(dir, 'nowhere') }] } }))
    assert.equal((await loadOptions(oclif, core, ['providers'], words)).plugins, undefined, 'a plugin that fails to load: oclif loads and warns as always')
  })

  it("leaves out only words no core plugin uses, and the core plugins have no hook TwinSync's commands reach", async () => {
    const words = await ownWords()
    const ours = JSON.parse(await readFile(join(core, 'oclif.manifest.json'), 'utf8')) as Manifest
    const pluginPlugins = join(dirname(require.resolve('@oclif/plugin-plugins')), '..')
    const theirs = JSON.parse(await readFile(join(pluginPlugins, 'oclif.manifest.json'), 'utf8')) as Manifest
    const theirWords = new Set(Object.values(theirs.commands).flatMap((c) => [c.id, ...(c.aliases ?? [])]).map((id) => id.split(':')[0]))
    assert.deepEqual(words, [...new Set(Object.keys(ours.commands).map((id) => id.split(':')[0]))].filter((w) => !theirWords.has(w)).sort())
    assert.ok(!words.includes('plugins'))
    const hooks = Object.keys((JSON.parse(await readFile(join(pluginPlugins, 'package.json'), 'utf8')) as { oclif: { hooks?: object } }).oclif.hooks ?? {})
    assert.deepEqual(hooks, ['update'])
  })

  it('gives the same commands, topics, hooks and folders as a full load, for every own word', async () => {
    process.env.TWINSYNC_DATA_DIR = join(dir, 'data')
    const oclif = require('../bundle/oclif.cjs') as typeof import('@oclif/core')
    const words = await ownWords()
    const options = await loadOptions(oclif, core, ['snapshot'], words)
    assert.ok(options.plugins !== undefined)
    const fast = await oclif.Config.load(options as never)
    const full = await oclif.Config.load({ root: core })
    assert.deepEqual(fast.plugins.size, 1)
    assert.deepEqual(full.plugins.size, 2, 'TwinSync and @oclif/plugin-plugins')
    for (const key of ['root', 'bin', 'version', 'dataDir', 'configDir', 'cacheDir', 'topicSeparator', 'userAgent'] as const) assert.equal(fast[key], full[key], key)
    const own = (ids: string[]) => ids.filter((id) => words.includes(id.split(':')[0] as string))
    assert.deepEqual(own(fast.commandIDs), own(full.commandIDs))
    assert.deepEqual(fast.commandIDs, full.commands.filter((c) => c.pluginName === '@twinsync/core').map((c) => c.id), "every command of TwinSync's, no other")
    assert.deepEqual(own(fast.topics.map((t) => t.name)), own(full.topics.map((t) => t.name)))
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown
    for (const id of own(full.commandIDs)) assert.deepEqual(plain(fast.findCommand(id)), plain(full.findCommand(id)), id)
    const rootOf = (c: typeof fast) => [...c.plugins.values()].find((p) => p.isRoot)
    assert.deepEqual(rootOf(fast)?.hooks, rootOf(full)?.hooks)
    // Every hook event a full load knows, besides the root's, is one TwinSync's commands never run.
    const others = [...full.plugins.values()].filter((p) => !p.isRoot).flatMap((p) => Object.keys(p.hooks))
    assert.deepEqual(others, ['update'])
  })

  it('runs a command with the Config oclif loaded for the run, not a second load of it (TwinSyncCommand.run)', async () => {
    await writeFile(join(dir, 'config.yaml'), '{}\n')
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TWINSYNC_DATA_DIR: join(dir, 'data'), DEBUG: 'oclif:*' }
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(core, 'bin', 'run.js'), 'config', '--json', '--config', join(dir, 'config.yaml')], { env })
    assert.equal((JSON.parse(stdout) as { configFile: string }).configFile, join(dir, 'config.yaml'))
    assert.match(stderr, /oclif:config/, "oclif's debug output still reaches DEBUG")
    assert.doesNotMatch(stderr, /reloading config/)
  })

  it("checks node against package.json's engines as semver does, without loading semver for a plain `>=` range (the bundled oclif's check)", async () => {
    const text = await readFile(join(core, 'bundle', 'oclif.cjs'), 'utf8')
    // The bundle is written without its whitespace (bundle.mjs's withoutWhitespace).
    const source = /const semver ?= ?(\{ ?satisfies: ?[\s\S]*?\} ?\});/.exec(text)?.[1]
    assert.ok(source, 'oclif.cjs checks the engines without semver')
    let fellBack = 0
    const realSemver = require('semver') as { satisfies(version: string, range: string): boolean }
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    // esbuild calls the bundled semver's module `require_semver<n>()`.
    const semverCall = /require_semver\d*\(\)/.exec(source)?.[0]
    assert.ok(semverCall, 'falls back to the bundled semver')
    const plain = new Function('loadSemver', `return ${source.replace(semverCall, 'loadSemver()')}`)(() => {
      fellBack++
      return realSemver
    }) as { satisfies(version: string, range: string): boolean }
    const versions = ['20.19.0', '20.18.9', '20.20.2', '21.0.0', '19.99.99', '22.1.0', '20.19.1', '8.0.0', '100.0.0']
    const ranges = ['>=20.19', '>=20.19.0', '>=20', '>= 20.19.1', '>=22.0.0', '>=20.19.0-0']
    for (const version of versions) for (const range of ranges) assert.equal(plain.satisfies(version, range), realSemver.satisfies(version, range), `${version} ${range}`)
    assert.equal(fellBack, versions.length, 'only the prerelease range asked semver')
    for (const [version, range] of [['20.19.0-nightly2025', '>=20.19'], ['20.19.0', '^20.19.0'], ['20.19.0', '>=18 <21']] as const) {
      assert.equal(plain.satisfies(version, range), realSemver.satisfies(version, range), `${version} ${range}`)
    }
  })

  it("sorts ids of lowercase letters, '-' and ':' by code unit exactly as localeCompare does (the bundled oclif's command sort)", () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz-:'
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const word = () => Array.from({ length: 1 + Math.floor(random() * 7) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
    for (let i = 0; i < 20_000; i++) {
      const a = word()
      const b = word()
      assert.equal(a < b ? -1 : a > b ? 1 : 0, Math.sign(a.localeCompare(b)), `${a} ${b}`)
    }
  })
})
