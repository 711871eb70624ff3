// bin/v8-flags.js (session 51): a run compiles a regular expression it makes to machine code at
// its first execution (`--regexp-tier-up-ticks=0`), not to V8's bytecode first and again to
// machine code at its second. Only how V8 runs an expression changes, never what it matches: the secret
// detector's findings over the corpus of the repository's secret fixtures are the same under the
// run's flags as under V8's defaults, each in a process of its own (a V8 flag is the process's).
import { strict as assert } from 'node:assert'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const SUPPORT = join(dirname(fileURLToPath(import.meta.url)), 'support')

describe("regular expressions compiled to machine code at once (core/bin/v8-flags.js)", function () {
  this.timeout(900_000)
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-regexp-tier-up-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  /** The detector over the corpus in a child process; V8 says on stdout what it compiled to bytecode. */
  const screen = async (runFlags: boolean) => {
    const out = join(dir, `${runFlags ? 'run' : 'default'}.json`)
    const { stdout } = await promisify(execFile)(process.execPath, ['--trace-regexp-tier-up', ...(runFlags ? ['--require', join(SUPPORT, 'run-flags.cjs')] : []), '--import', 'tsx', join(SUPPORT, 'screen-corpus.ts')], {
      env: { ...process.env, OUT: out },
      maxBuffer: 256 * 1024 * 1024,
    })
    const { texts, found } = JSON.parse(await readFile(out, 'utf8')) as { texts: number; found: unknown[][] }
    return { texts, found, bytecode: stdout.split('\n').filter((l) => / bytecode size: \d+$/.test(l)).length }
  }

  it("finds exactly what it finds under V8's defaults, with no expression compiled to bytecode", async () => {
    const [defaults, run] = await Promise.all([screen(false), screen(true)])
    assert.ok(defaults.texts > 1_000, `${defaults.texts} texts`)
    // The corpus has teeth: most texts hold a finding.
    assert.ok(defaults.found.filter((f) => f.length > 0).length > defaults.texts / 2, `${defaults.found.filter((f) => f.length > 0).length} of ${defaults.texts} texts with a finding`)
    assert.deepEqual(run.found, defaults.found)
    // The flag is live: under V8's defaults hundreds of expressions are compiled to bytecode first;
    // under the run's only the few Node's start made before the flags were set (3 here).
    assert.ok(defaults.bytecode > 100, `${defaults.bytecode} compiled to bytecode under V8's defaults`)
    assert.ok(run.bytecode < defaults.bytecode / 20, `${run.bytecode} compiled to bytecode under the run's flags, ${defaults.bytecode} under V8's defaults`)
  })
})
