// core/scripts/bundle.mjs's vendor files: execa, yaml, simple-git, semver and secretlint each in a
// CommonJS file of its own beside the lazy file that imports them, loaded when a module first
// imports them (an unchanged snapshot reads none of them), and every bundle written without its
// whitespace. The libraries answer through the bundles as they do from node_modules.
import { strict as assert } from 'node:assert'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { transformSync } from 'esbuild'

const core = join(dirname(fileURLToPath(import.meta.url)), '..')
const sdkBundle = join(core, '..', 'sdk', 'bundle')
const coreBundle = join(core, 'bundle')

describe('vendor files beside the bundles (core/scripts/bundle.mjs)', function () {
  this.timeout(60_000)

  it('holds each library in its vendor file only, and the lazy files load it from there', async () => {
    const lib = await readFile(join(coreBundle, 'twinsync-lib.cjs'), 'latin1')
    const sdkLib = await readFile(join(sdkBundle, 'sdk-lib.cjs'), 'latin1')
    const sdkEager = await readFile(join(sdkBundle, 'sdk.cjs'), 'latin1')
    // A name each library defines in its own code (a class or function by its name, as esbuild writes it).
    const marks: Array<[string, string, string]> = [
      [coreBundle, 'vendor-yaml.cjs', 'YAMLParseError=class'],
      [coreBundle, 'vendor-simple-git.cjs', 'GitResponseError=class'],
      [coreBundle, 'vendor-execa.cjs', 'isExecaError'],
      [sdkBundle, 'vendor-execa.cjs', 'isExecaError'],
      [sdkBundle, 'vendor-secretlint.cjs', 'SecretLintProfiler'],
      // Session 50: the preset's rules apart from the core that runs them (sdk/src/secrets.ts: secretlintCore).
      [sdkBundle, 'vendor-secretlint.cjs', 'SecretLintSourceCodeImpl=class'],
      [sdkBundle, 'vendor-secretlint-preset.cjs', 'AWSSecretAccessKey'],
    ]
    for (const [dir, file, mark] of marks) {
      const text = await readFile(join(dir, file), 'latin1')
      assert.ok(text.includes(mark), `${file} holds ${mark}`)
      assert.ok(!lib.includes(mark) && !sdkLib.includes(mark) && !sdkEager.includes(mark), `${mark} is in ${file} only`)
    }
    for (const name of ['execa', 'yaml', 'simple-git', 'semver']) assert.ok(lib.includes(`__twinsyncRequire("./vendor-${name}.cjs")`), `twinsync-lib.cjs loads vendor-${name}.cjs`)
    // LocalHost (execa) and secrets.ts (secretlint) are of the SDK's light entry, in sdk.cjs and run when first called (bundle.mjs's SDK_LIGHT).
    for (const name of ['execa', 'secretlint', 'secretlint-preset']) assert.ok(sdkEager.includes(`__twinsyncRequire("./vendor-${name}.cjs")`), `sdk.cjs loads vendor-${name}.cjs`)
  })

  it('writes the CommonJS files without whitespace, ASCII, behind their sha256 line', async () => {
    const files = [...(await readdir(coreBundle)).filter((f) => f.endsWith('.cjs')).map((f) => join(coreBundle, f)), ...['sdk.cjs', 'sdk-lib.cjs', 'vendor-execa.cjs', 'vendor-secretlint.cjs', 'vendor-secretlint-preset.cjs'].map((f) => join(sdkBundle, f))]
    for (const file of files) {
      const bytes = await readFile(file)
      const text = bytes.toString('latin1')
      assert.match(text, /^\/\/ twinsync-bundle sha256:[0-9a-f]{64}\n/, file)
      assert.equal(bytes.findIndex((b) => b > 0x7f), -1, `${file} is ASCII`)
      // Taken out already: esbuild's minifyWhitespace finds next to nothing more to take (from its
      // readable output, every block indented, it takes a third or more). Not by counting lines:
      // the SDK's Debian checks, in sdk.cjs since session 41, hold shell scripts as multi-line strings.
      const body = text.slice(text.indexOf('\n') + 1)
      const again = transformSync(body, { minifyWhitespace: true, legalComments: 'none', loader: 'js', charset: 'ascii', logLevel: 'silent' }).code
      assert.ok(again.length > body.length * 0.99, `${file} has its whitespace taken out (${body.length} bytes, ${again.length} once minified again)`)
    }
  })

  it("works out a bundle's import.meta.url when it is first read, not as the bundle loads (no URL set up for a run that never reads it)", async () => {
    const script = `
      const url = require('node:url')
      const pathToFileURL = url.pathToFileURL
      const asked = []
      url.pathToFileURL = (path) => { asked.push(require('node:path').basename(path)); return pathToFileURL(path) }
      const sdk = require(${JSON.stringify(join(sdkBundle, 'index.cjs'))})
      const loaded = [...asked]
      // jsdiff is required from sdk-lib.cjs's own import.meta.url (sdk/src/text-diff.ts).
      const diff = sdk.textDiff('/etc/x.conf', 'a\\n', 'b\\n')
      process.stdout.write(JSON.stringify({ loaded, asked, diff }))`
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script])
    const { loaded, asked, diff } = JSON.parse(stdout) as { loaded: string[]; asked: string[]; diff: string }
    assert.deepEqual(loaded, [])
    assert.deepEqual(asked, ['sdk-lib.cjs'])
    assert.match(diff, /^-a\n\+b$/m)
  })

  it("silences secretlint's profiler in the one instance its core uses (one vendor file for the three)", async () => {
    const script = `
      const sdk = require(${JSON.stringify(join(sdkBundle, 'index.cjs'))})
      ;(async () => {
        const text = 'password = hunter2hunter2\\n-----BEGIN RSA PRIVATE KEY-----\\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\\n-----END RSA PRIVATE KEY-----\\nghp_${'a'.repeat(36)}\\n'
        let found = 0
        for (let i = 0; i < 3; i++) found += (await sdk.findSecrets(text, { path: '/etc/x.conf' })).length
        process.stdout.write(JSON.stringify({ found, marks: performance.getEntriesByType('mark').length }))
      })()`
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script])
    const { found, marks } = JSON.parse(stdout) as { found: number; marks: number }
    assert.ok(found >= 3, `secrets found through the bundle (${found})`)
    assert.equal(marks, 0, "secretlint's profiler left performance marks: its core and the silenced profiler are two instances")
  })

  // Speed (issue 22, session 50): secretlint's core (vendor-secretlint.cjs) is loaded for the first
  // text the preset's prefilter lets through, not with the preset (vendor-secretlint-preset.cjs),
  // whose rules decide whether the prefilter is trusted (sdk/src/secrets.ts, secretlintCore). A
  // secret only the preset finds, in a text after one it turned away, is still found.
  it("loads secretlint's core for the first text the preset could report on, and finds the preset's secret there", async () => {
    const script = `
      const sdk = require(${JSON.stringify(join(sdkBundle, 'light.cjs'))})
      const vendors = () => Object.keys(require.cache).filter((f) => f.includes('vendor-')).map((f) => f.slice(f.lastIndexOf('/') + 1)).sort()
      ;(async () => {
        const plain = await sdk.findSecrets('PermitRootLogin no\\nPasswordAuthentication no\\n', { path: '/etc/ssh/sshd_config' })
        const before = vendors()
        const token = 'k = ' + 'h' + 'f_' + 'abcdefghijklmnopqrstuvwxyzABCDEFGH' + '\\n'
        const found = await sdk.findSecrets(token, { path: '/etc/app.conf' })
        process.stdout.write(JSON.stringify({ plain: plain.length, before, found: found.map((f) => f.rule), after: vendors(), marks: performance.getEntriesByType('mark').length }))
      })()`
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script])
    const r = JSON.parse(stdout) as { plain: number; before: string[]; found: string[]; after: string[]; marks: number }
    assert.equal(r.plain, 0, stdout)
    assert.deepEqual(r.before, ['vendor-secretlint-preset.cjs'], `a text the prefilter turns away: the preset's rules loaded, secretlint's core not (${stdout})`)
    assert.deepEqual(r.found, ['huggingface'], `the preset's own rule finds the token in the text after it (${stdout})`)
    assert.deepEqual(r.after, ['vendor-secretlint-preset.cjs', 'vendor-secretlint.cjs'], stdout)
    assert.equal(r.marks, 0, "secretlint's profiler silenced before the core's first lint")
  })

  it('answers through the vendor files as the libraries do (yaml, semver, execa, simple-git)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinsync-vendors-'))
    try {
      const require = createRequire(import.meta.url)
      const yaml = require(join(coreBundle, 'vendor-yaml.cjs'))['yaml'] as typeof import('yaml')
      assert.deepEqual(yaml.parseDocument('a: [1, 2]\n').toJS(), { a: [1, 2] })
      const semver = require(join(coreBundle, 'vendor-semver.cjs'))['semver'] as typeof import('semver')
      assert.equal(semver.satisfies('1.2.3', '^1.0.0'), true)
      const { execa } = require(join(sdkBundle, 'vendor-execa.cjs'))['execa'] as typeof import('execa')
      assert.equal((await execa('echo', ['hello'])).stdout, 'hello')
      const { simpleGit } = require(join(coreBundle, 'vendor-simple-git.cjs'))['simple-git'] as typeof import('simple-git')
      await writeFile(join(dir, 'f'), 'x')
      const git = simpleGit(dir)
      await git.init()
      assert.equal((await git.status()).not_added.includes('f'), true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
