import { strict as assert } from 'node:assert'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { findTool, makeTempDir, removeTree } from '../bed/index.js'
import { codeCacheDir, instructions } from './measure.js'

describe('bench: callgrind counts as a person runs TwinSync (measure.ts, session 38)', () => {
  // valgrind stood in for by a script that runs what follows its two options and prints a count
  // as callgrind does (callgrind itself takes 10-30 s for `node -e`): what is checked is what
  // `instructions` runs and what it leaves behind.
  it("runs node without a hash seed and leaves the code-cache folder's long-run markers as it found them", async () => {
    const home = await makeTempDir('measure')
    const path = process.env.PATH
    try {
      await mkdir(join(home, 'bin'))
      await writeFile(join(home, 'bin', 'valgrind'), '#!/bin/sh\nshift 2\n"$@"\nrc=$?\necho "==1== Collected : 4242000" >&2\nexit $rc\n', { mode: 0o755 })
      process.env.PATH = `${join(home, 'bin')}:${path ?? '/usr/bin:/bin'}`
      assert.equal(findTool('valgrind'), join(home, 'bin', 'valgrind'))
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_CACHE_HOME: join(home, 'cache') }
      const dir = codeCacheDir(env)
      assert.equal(dir, join(home, 'cache', 'twinsync', 'v8'))
      await mkdir(dir, { recursive: true, mode: 0o700 })
      await writeFile(join(dir, 'long-run-status'), '')
      await writeFile(join(dir, 'large-heap-plan'), '')
      // What a TwinSync run under valgrind does (core/bin/v8-flags.js's recordRun): over LONG_CPU, so
      // its own command marked long; another command's marker of a short run removed; its flags kept.
      const program = [
        "const { writeFileSync, rmSync } = require('node:fs'); const { join } = require('node:path')",
        `const dir = ${JSON.stringify(dir)}`,
        "writeFileSync(join(dir, 'long-run-history'), ''); rmSync(join(dir, 'long-run-status')); rmSync(join(dir, 'large-heap-plan'))",
        "writeFileSync(join(dir, 'argv'), JSON.stringify(process.execArgv))",
      ].join('\n')
      const count = await instructions(['-e', program], { env, timeoutMs: 120_000 })
      assert.equal(count, 4242000)
      const execArgv = JSON.parse(await readFile(join(dir, 'argv'), 'utf8')) as string[]
      assert.ok(!execArgv.some((a) => a.startsWith('--hash-seed')), `no hash seed (it keeps Node's own code caches from being used): ${execArgv.join(' ')}`)
      assert.ok(execArgv.includes('--random-seed=1'), execArgv.join(' '))
      // The long-run markers as before; the heap's marker is the run's own (the same under valgrind).
      assert.deepEqual((await readdir(dir)).filter((f) => f !== 'argv').sort(), ['long-run-status'])
    } finally {
      process.env.PATH = path
      await removeTree(home)
    }
  })
})
