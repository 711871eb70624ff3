import { strict as assert } from 'node:assert'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { SDK_VERSION } from '../src/index.js'

const run = promisify(execFile)
const sdkDir = join(dirname(fileURLToPath(import.meta.url)), '..')

/** `npm pack` of sdk/ is what plugin authors install: it must stand on its own. */
describe('the packed SDK', function () {
  this.timeout(120_000)
  let dir: string
  let files: Map<string, string>
  let pjson: { name: string; version: string; dependencies: Record<string, string>; peerDependencies?: Record<string, string>; exports: Record<string, string | { types: string; default: string }> }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdk-pack-'))
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: sdkDir })
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>
    await run('tar', ['-xzf', join(dir, packed?.filename ?? ''), '-C', dir])
    files = new Map()
    const walk = async (at: string, rel: string): Promise<void> => {
      for (const e of await readdir(at, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(at, e.name), posix.join(rel, e.name))
        else files.set(posix.join(rel, e.name), await readFile(join(at, e.name), 'utf8'))
      }
    }
    await walk(join(dir, 'package'), '')
    pjson = JSON.parse(files.get('package.json') ?? '{}')
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('has a README, compiled JavaScript and types for every entry point, and nothing of the build', () => {
    assert.ok(files.get('README.md')?.includes('peerDependencies'))
    for (const [entry, target] of Object.entries(pjson.exports)) {
      // "./package.json": "./package.json" (how the host finds the SDK's folder)
      const { types, default: main } = typeof target === 'string' ? { types: target, default: target } : target
      assert.ok(files.has(main.replace(/^\.\//, '')), `${entry}: ${main} is in the package`)
      assert.ok(files.has(types.replace(/^\.\//, '')), `${entry}: ${types} is in the package`)
    }
    const strays = [...files.keys()].filter((f) => /\.map$|tsbuildinfo|^src\/|^test\//.test(f))
    assert.deepEqual(strays, [], 'source maps, build info, sources and tests stay out')
  })

  it('imports only its own files, Node built-ins and its declared dependencies', () => {
    const deps = new Set(Object.keys(pjson.dependencies))
    const problems: string[] = []
    for (const [file, text] of files) {
      if (!/\.(js|d\.ts)$/.test(file)) continue
      // A module name has no spaces or semicolons (the bundled code has `from "` in strings too).
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"\s;]+)['"]/g)) {
        const spec = m[1] as string
        if (spec.startsWith('.')) {
          const target = posix.join(posix.dirname(file), spec)
          const candidates = file.endsWith('.d.ts') ? [target.replace(/\.js$/, '.d.ts')] : [target]
          if (!candidates.some((c) => files.has(c))) problems.push(`${file} imports ${spec}, which is not in the package`)
        } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string)
          if (!deps.has(name)) problems.push(`${file} imports ${spec}, which is not a dependency`)
        }
      }
    }
    assert.deepEqual(problems, [])
  })

  it('has the version the host reports to plugins (SDK_VERSION)', () => {
    assert.equal(pjson.name, '@twinsync/sdk')
    assert.equal(pjson.version, SDK_VERSION)
  })
})
