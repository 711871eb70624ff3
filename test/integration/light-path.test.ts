// The SDK's light entry (sdk/src/light.ts; core/scripts/bundle.mjs's SDK_LIGHT): `history` reaches
// the twin without the SDK's index, whose file (sdk/bundle/sdk-lib.cjs: typebox and its schemas,
// the SDK's other modules) every command that reached the twin loaded. Since session 41 an
// unchanged snapshot, `plan` and `status` do not load it either; a run that checks a document
// against its schema does. The light entry's names are the index's own (one SDK instance, so a
// plugin's TwinSyncError is the core's).
import { strict as assert } from 'node:assert'
import { realpathSync } from 'node:fs'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOTFS_BUILD_TIMEOUT_MS, repoRoot, run } from '../bed/index.js'
import { TWINSYNC_BIN, useCliRoot } from '../support/cli.js'

const sdkBundle = realpathSync(join(repoRoot, 'sdk', 'bundle'))
const SDK_LIB = join(sdkBundle, 'sdk-lib.cjs')

describe('what the built CLI loads to reach the twin (issue 22)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  let runs = 0

  /**
   * The command's exit, output and every file in require's cache at its exit (the bundles it
   * loaded), Node's own modules it loaded, and the git subcommands it ran through
   * child_process's `spawn` and `spawnSync` (wrapped on the module every bundle requires).
   */
  async function traced(...args: string[]): ReturnType<typeof tracedAt> {
    return tracedAt(root().twinDir, ...args)
  }

  /** traced, on the twin at `repo`. */
  async function tracedAt(repo: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; loaded: string[]; builtins: string[]; spawned: string[]; spawnedSync: string[] }> {
    const dir = root().cli.dir
    const out = join(dir, `loaded-${runs++}.json`)
    const trace = join(dir, 'trace.cjs')
    await writeFile(
      trace,
      [
        'const spawned = [], spawnedSync = []',
        "process.on('exit', () => require('node:fs').writeFileSync(process.env.TRACE_OUT, JSON.stringify({ loaded: Object.keys(require.cache), builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)), spawned, spawnedSync })))",
        // Wrapped only once a bundle requires child_process: requiring it here would load it for every command.
        "const Module = require('node:module'), load = Module._load",
        "Module._load = function (request) { const m = load.apply(this, arguments); if ((request === 'node:child_process' || request === 'child_process') && !m.traced) { const { spawn, spawnSync } = m; const sub = (a) => (a ?? []).find((w, i, all) => !w.startsWith('-') && all[i - 1] !== '-c' && all[i - 1] !== '-C'); m.spawn = function (file, a) { spawned.push(`${file} ${sub(a)}`); return spawn.apply(this, arguments) }; m.spawnSync = function (file, a) { spawnedSync.push(`${file} ${sub(a)}`); return spawnSync.apply(this, arguments) }; m.traced = true } return m }",
      ].join('\n') + '\n',
    )
    const r = await run(['node', '-r', trace, TWINSYNC_BIN, ...args, '--root', root().rootfs.dir, '--repo', repo], { env: root().cli.env({ TRACE_OUT: out }), timeoutMs: 120_000 })
    return { ...r, ...(JSON.parse(await readFile(out, 'utf8')) as { loaded: string[]; builtins: string[]; spawned: string[]; spawnedSync: string[] }) }
  }

  it("lists the history without loading the SDK's index (sdk-lib.cjs), from source and from the code cache", async () => {
    for (const pass of ['first run', 'from the code cache']) {
      const r = await traced('history', '--limit', '1', '--json')
      assert.equal(r.code, 0, r.stderr)
      assert.equal((JSON.parse(r.stdout) as unknown[]).length, 1)
      assert.ok(r.loaded.includes(join(sdkBundle, 'sdk.cjs')), `${pass}: the trace sees the SDK's bundles (${r.loaded.join(', ')})`)
      assert.ok(!r.loaded.includes(SDK_LIB), `${pass}: history loaded the SDK's index, sdk-lib.cjs (typebox and its schemas): a module on its way imports from '@twinsync/sdk' what '@twinsync/sdk/light' has`)
    }
  })

  // Speed (session 37): Node's zlib made lazy in the bundles (core/scripts/bundle.mjs's
  // LAZY_CLI_BUILTINS) and the log pass read with spawnSync (git.ts's plainGitSync).
  it('lists the history without loading zlib and reads its log pass with a synchronous git', async () => {
    const r = await traced('history', '--limit', '1000', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.ok((JSON.parse(r.stdout) as unknown[]).length >= 1, r.stdout)
    assert.ok(r.builtins.includes('fs') && r.builtins.includes('child_process'), `the trace sees Node's modules: ${r.builtins.join(', ')}`)
    assert.ok(!r.builtins.includes('zlib'), `history loaded node:zlib, which it never uses: ${r.builtins.join(', ')}`)
    assert.deepEqual(r.spawnedSync, ['git log'], `the log pass: ${JSON.stringify(r)}`)
    assert.deepEqual(r.spawned, [], 'no asynchronous git for history')
  })

  it('still loads zlib where it is used: a snapshot that changed a file packs its objects', async () => {
    await writeFile(join(root().rootfs.dir, 'etc', 'twinsync-light-path.conf'), `changed ${Date.now()}\n`)
    const r = await traced('snapshot', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.ok(r.builtins.includes('zlib'), r.builtins.join(', '))
  })

  // Speed (session 49): the move's stage folder removed with rmdir when empty or absent, the pack
  // writer's temp files, the ref locks and their record, init's link probe and the plan-seal key's
  // temp file unlinked (core/src/twin/remove-file.ts): `rm`/`rmSync` loaded Node's rimraf in every
  // snapshot that committed, and in `snapshot --init`.
  it("makes a first snapshot, and one that commits, without Node's rimraf", async () => {
    const first = await tracedAt(join(root().cli.dir, `new-twin-${runs}`), 'snapshot', '--init', '--json')
    assert.equal(first.code, 0, first.stderr)
    assert.notEqual((JSON.parse(first.stdout) as { commit?: string }).commit, undefined, first.stdout)
    assert.ok(first.builtins.includes('zlib'), `the trace sees Node's modules: ${first.builtins.join(', ')}`)
    assert.ok(!first.builtins.includes('internal/fs/rimraf'), `snapshot --init loaded internal/fs/rimraf: ${first.builtins.join(', ')}`)
    await writeFile(join(root().rootfs.dir, 'etc', 'twinsync-light-path.conf'), `committed ${Date.now()}\n`)
    const committed = await traced('snapshot', '--json')
    assert.equal(committed.code, 0, committed.stderr)
    assert.notEqual((JSON.parse(committed.stdout) as { commit?: string }).commit, undefined, committed.stdout)
    assert.ok(!committed.builtins.includes('internal/fs/rimraf'), `a snapshot that committed loaded internal/fs/rimraf: ${committed.builtins.join(', ')}`)
  })

  /** An unchanged snapshot, traced: it commits nothing and loads no rimraf. */
  async function unchangedWithoutRimraf(what: string): Promise<void> {
    const r = await traced('snapshot', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.equal((JSON.parse(r.stdout) as { commit?: string }).commit, undefined, r.stdout)
    assert.ok(r.builtins.includes('fs'), `the trace sees Node's modules: ${r.builtins.join(', ')}`)
    assert.ok(!r.builtins.includes('internal/fs/rimraf'), `${what} loaded internal/fs/rimraf: ${r.builtins.join(', ')}`)
  }

  // Speed (session 39): forgotten-paths.ts's clearForgotten unlinks, where `rm(path, { force: true })`
  // loaded and compiled Node's rimraf in every snapshot.
  it("makes an unchanged snapshot after an unchanged one without Node's rimraf", async () => {
    assert.equal((await traced('snapshot', '--json')).code, 0)
    await unchangedWithoutRimraf('an unchanged snapshot after an unchanged one')
  })

  // Speed (session 40): the snapshot's private index and records removed with removeFile
  // (core/src/twin/remove-file.ts), where atomic-snapshot.ts's `rm(path, { force: true })` loaded
  // rimraf in the snapshot after one that committed (its index refreshed, refreshIndex).
  it("makes the first snapshot after one that committed without Node's rimraf", async () => {
    await writeFile(join(root().rootfs.dir, 'etc', 'twinsync-light-path.conf'), `changed again ${Date.now()}\n`)
    const committed = await traced('snapshot', '--json')
    assert.equal(committed.code, 0, committed.stderr)
    assert.notEqual((JSON.parse(committed.stdout) as { commit?: string }).commit, undefined, committed.stdout)
    await unchangedWithoutRimraf('the first snapshot after one that committed')
  })

  // Session 41: a path whose ctime moved within the last second or two is racy, so the files
  // provider writes its attribute stamps whole and removes their delta (attribute-cache.ts): the
  // provider cache's remove was `rm(path, { force: true })`, which loaded rimraf in an unchanged
  // snapshot by the clock (this file's previous case failed in CI on a loaded machine). A chmod to
  // the same mode moves the ctime and nothing else, so the snapshot commits nothing.
  it("makes an unchanged snapshot right after a file's ctime moved without Node's rimraf", async () => {
    const file = join(root().rootfs.dir, 'etc', 'twinsync-light-path.conf')
    await writeFile(file, `racy ${Date.now()}\n`)
    assert.equal((await traced('snapshot', '--json')).code, 0)
    await chmod(file, 0o644)
    await unchangedWithoutRimraf("an unchanged snapshot right after a file's ctime moved")
  })

  // Speed (session 40): the machine lock's holder (twin-lock.ts's inspect, which a snapshot asks before and
  // after its collect) looked at with synchronous calls, where fs/promises' stat and readFile loaded Node's
  // fs/promises (and its readline, watchers and dir modules) in every snapshot. The first snapshot, one that
  // commits and the one after it: the next case (session 53).
  it("makes an unchanged snapshot after an unchanged one without Node's fs/promises", async () => {
    assert.equal((await traced('snapshot', '--json')).code, 0)
    const r = await traced('snapshot', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.equal((JSON.parse(r.stdout) as { commit?: string }).commit, undefined, r.stdout)
    assert.ok(r.builtins.includes('fs') && r.builtins.includes('crypto'), `the trace sees Node's modules: ${r.builtins.join(', ')}`)
    assert.ok(!r.builtins.includes('fs/promises') && !r.builtins.includes('internal/fs/promises'), `an unchanged snapshot loaded fs/promises: ${r.builtins.join(', ')}`)
  })

  // Speed (session 53; session 52's form, reverted, made the SDK's writeFileAtomic synchronous): init's
  // folders and files, the snapshot's move (its stage folder, its record: writeFileAtomic's 'blocking', the index's
  // swap), the automatic pack's look at the store, the twin key and the refresh of the index after a
  // commit use synchronous calls, and the files provider's durable key (written inside its collect)
  // fs's callback calls: fs/promises' were the only reason Node loaded its fs/promises, readline,
  // watchers and dir modules (eight modules, about 4 M instructions to load, more to compile what was called).
  it("makes a first snapshot, one that commits and the one after it without Node's fs/promises (its readline and watchers)", async () => {
    const twin = join(root().cli.dir, `promises-twin-${runs}`)
    const without = (what: string, r: { builtins: string[] }) => {
      assert.ok(r.builtins.includes('fs') && r.builtins.includes('zlib'), `the trace sees Node's modules: ${r.builtins.join(', ')}`)
      for (const module of ['fs/promises', 'internal/fs/promises', 'internal/readline/interface', 'internal/fs/watchers']) assert.ok(!r.builtins.includes(module), `${what} loaded ${module}: ${r.builtins.join(', ')}`)
    }
    const first = await tracedAt(twin, 'snapshot', '--init', '--json')
    assert.equal(first.code, 0, first.stderr)
    assert.notEqual((JSON.parse(first.stdout) as { commit?: string }).commit, undefined, first.stdout)
    without('snapshot --init', first)
    await writeFile(join(root().rootfs.dir, 'etc', 'twinsync-light-path.conf'), `promises ${Date.now()}\n`)
    const committed = await tracedAt(twin, 'snapshot', '--json')
    assert.equal(committed.code, 0, committed.stderr)
    assert.notEqual((JSON.parse(committed.stdout) as { commit?: string }).commit, undefined, committed.stdout)
    without('a snapshot that committed', committed)
    const after = await tracedAt(twin, 'snapshot', '--json')
    assert.equal(after.code, 0, after.stderr)
    assert.equal((JSON.parse(after.stdout) as { commit?: string }).commit, undefined, after.stdout)
    assert.ok(after.builtins.includes('fs'), after.builtins.join(', '))
    for (const module of ['fs/promises', 'internal/readline/interface']) assert.ok(!after.builtins.includes(module), `the snapshot after one that committed loaded ${module}: ${after.builtins.join(', ')}`)
  })

  // Speed (session 41): the SDK's entries in sdk-lib.cjs load it when one of their names is first
  // read (core/scripts/bundle.mjs, SDK_LAZY_ENTRY), the providers' and the core's schemas are built
  // when first used (sdk/src/lazy-schema.ts), and the index names a snapshot reads are in the light
  // entry: an unchanged snapshot runs the providers without typebox.
  it("makes an unchanged snapshot without loading the SDK's index (sdk-lib.cjs: typebox and the schemas)", async () => {
    assert.equal((await traced('snapshot', '--json')).code, 0)
    const r = await traced('snapshot', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.equal((JSON.parse(r.stdout) as { commit?: string }).commit, undefined, r.stdout)
    assert.ok(r.loaded.includes(join(sdkBundle, 'sdk.cjs')), `the trace sees the SDK's bundles (${r.loaded.join(', ')})`)
    assert.ok(!r.loaded.includes(SDK_LIB), 'an unchanged snapshot loaded the SDK\'s index, sdk-lib.cjs: a module it runs builds a schema as it loads (make it a lazySchema) or reads a name only the index has (move its module to the light entry)')
  })

  // Speed (issue 22, session 50): the snapshot's windowed screen of a large document (the files
  // manifest, screened around its changed entry) takes commonEnds from the light entry, and
  // secretlint's core is loaded only for a text the preset's prefilter lets through
  // (sdk/src/secrets.ts): a snapshot that commits a changed file loaded sdk-lib.cjs for commonEnds
  // alone, and vendor-secretlint.cjs for texts the preset was never run on.
  it("makes a snapshot that commits a changed file without the SDK's index or secretlint's core", async () => {
    await writeFile(join(root().rootfs.dir, 'etc', 'twinsync-light-path.conf'), `screened ${Date.now()}\n`)
    const r = await traced('snapshot', '--json')
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as { commit?: string; summary?: { files?: { paths?: string[] } } }
    assert.notEqual(out.commit, undefined, r.stdout)
    assert.ok(out.summary?.files?.paths?.some((p) => p.startsWith('system/files/manifest')), `the files manifest changed (${r.stdout})`)
    assert.ok(r.loaded.includes(join(sdkBundle, 'vendor-secretlint-preset.cjs')), `the changed file and the manifest were screened (the trace sees the preset): ${r.loaded.join(', ')}`)
    assert.ok(!r.loaded.includes(SDK_LIB), `a snapshot that committed a changed file loaded the SDK's index, sdk-lib.cjs: ${r.loaded.join(', ')}`)
    assert.ok(!r.loaded.includes(join(sdkBundle, 'vendor-secretlint.cjs')), `secretlint's core was loaded, though no text screened holds anything the preset could report: ${r.loaded.join(', ')}`)
  })

  // Session 41: the providers' load takes the documents their collect just made unchecked
  // (MadeDocuments; autostart's too since then), and the planner's names of the SDK are in sdk.cjs.
  it("runs plan and status of an unchanged machine without loading the SDK's index", async () => {
    assert.equal((await traced('snapshot', '--json')).code, 0)
    for (const command of ['plan', 'status']) {
      const r = await traced(command, '--json')
      assert.equal(r.code, 0, r.stderr)
      assert.ok(r.loaded.includes(join(sdkBundle, 'sdk.cjs')), `the trace sees the SDK's bundles (${r.loaded.join(', ')})`)
      assert.ok(!r.loaded.includes(SDK_LIB), `${command} of an unchanged machine loaded the SDK's index, sdk-lib.cjs`)
    }
  })

  it('loads the index where a schema is used: status checks a twin document a person edited (the trace sees sdk-lib.cjs)', async () => {
    const apt = join(root().twinDir, 'system', 'packages', 'apt.json')
    const text = await readFile(apt, 'utf8')
    // The same packages written another way: not the text collect made, so checked against the schema.
    await writeFile(apt, `${JSON.stringify(JSON.parse(text), null, 1)}\n`)
    try {
      const r = await traced('status', '--json')
      assert.equal(r.code, 0, r.stderr)
      assert.ok(r.loaded.includes(SDK_LIB), r.loaded.join(', '))
    } finally {
      await writeFile(apt, text)
    }
  })
})

describe("the SDK's light entry is the index's own modules (one instance)", () => {
  it('gives every name as the index, the errors entry and their ES module facades give it', async () => {
    const require = createRequire(import.meta.url)
    const light = require(join(sdkBundle, 'light.cjs')) as Record<string, unknown>
    const index = require(join(sdkBundle, 'index.cjs')) as Record<string, unknown>
    const errors = require(join(sdkBundle, 'errors.cjs')) as Record<string, unknown>
    const lightEsm = (await import(pathToFileURL(join(sdkBundle, 'light.js')).href)) as Record<string, unknown>
    const indexEsm = (await import(pathToFileURL(join(sdkBundle, 'index.js')).href)) as Record<string, unknown>
    const names = Object.keys(lightEsm)
    assert.ok(names.includes('TwinSyncError') && names.includes('LocalHost') && names.length > 50, names.join(', '))
    for (const name of names) {
      assert.equal(light[name], index[name], `light's ${name} is the index's`)
      assert.equal(lightEsm[name], indexEsm[name], `light.js's ${name} is index.js's`)
      assert.equal(lightEsm[name], light[name], `light.js's ${name} is light.cjs's`)
    }
    assert.equal(light.TwinSyncError, errors.TwinSyncError)
    const TwinSyncError = index.TwinSyncError as new (code: string, message: string) => Error
    const isTwinSyncError = light.isTwinSyncError as (e: unknown) => boolean
    const thrown = new TwinSyncError('PLUGIN_CODE', 'made by a plugin through the index')
    assert.ok(thrown instanceof (light.TwinSyncError as new () => Error) && isTwinSyncError(thrown))
  })
})
