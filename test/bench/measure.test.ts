import { strict as assert } from 'node:assert'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findTool, makeTempDir, removeTree } from '../bed/index.js'
import { codeCacheDir, collections, counted, describeCounts, instructions, type Count } from './measure.js'

/**
 * valgrind's stand-in: runs what follows its options, prints a count as callgrind does, and
 * writes a callgrind output file (named by --callgrind-out-file) recording 3 scavenges and a
 * mark-compact, in callgrind's format with names written out (--compress-strings=no).
 */
const STAND_IN = `#!/bin/sh
out=/dev/null
while [ "\${1#--}" != "$1" ]; do case "$1" in --callgrind-out-file=*) out="\${1#--callgrind-out-file=}";; esac; shift; done
"$@"
rc=$?
printf 'fn=v8::internal::Heap::Scavenge()\\ncfn=v8::internal::ScavengerCollector::CollectGarbage()\\ncalls=3 0x1\\n1 9\\nfn=v8::internal::Heap::PerformGarbageCollection()\\ncfn=v8::internal::Heap::MarkCompact()\\ncalls=1 0x2\\n1 9\\n' > "$out"
echo "==1== Collected : 4242000" >&2
exit $rc
`

describe('bench: callgrind counts as a person runs TwinSync (measure.ts, session 38)', () => {
  // valgrind stood in for by a script that runs what follows its two options and prints a count
  // as callgrind does (callgrind itself takes 10-30 s for `node -e`): what is checked is what
  // `instructions` runs and what it leaves behind.
  it("runs node without a hash seed and leaves the code-cache folder's long-run markers as it found them", async () => {
    const home = await makeTempDir('measure')
    const path = process.env.PATH
    try {
      await mkdir(join(home, 'bin'))
      await writeFile(join(home, 'bin', 'valgrind'), STAND_IN, { mode: 0o755 })
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
      // counted: the same count, the markers the run started with, its collections from callgrind's file (session 43).
      await writeFile(join(dir, 'large-heap-plan'), '')
      const withGc = await counted(['-e', program.replace("rmSync(join(dir, 'long-run-status')); ", '')], { env, timeoutMs: 120_000 })
      assert.deepEqual(withGc, { instructions: 4242000, markers: ['large-heap-plan', 'long-run-status'], gc: { scavenges: 3, markCompacts: 1 } })
      assert.deepEqual((await readdir(dir)).filter((f) => f !== 'argv').sort(), ['long-run-status'])
      // Its callgrind file is removed once read.
      assert.deepEqual((await readdir(tmpdir())).filter((f) => f.startsWith(`twinsync-bench-callgrind-${process.pid}-`)), [])
    } finally {
      process.env.PATH = path
      await removeTree(home)
    }
  })

  describe('what a count depends on besides the code (session 43)', () => {
    it("reads the scavenges and mark-compacts from callgrind's call counts, and nothing from a node without symbols", () => {
      const out = [
        'fn=v8::internal::Heap::Scavenge()',
        'cfn=v8::internal::ScavengerCollector::CollectGarbage()',
        'calls=2 0x119dbc0',
        '12 400',
        'cfn=v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace)',
        'calls=5 0x1112c00',
        '14 100',
        'fn=v8::internal::Heap::PerformGarbageCollection(v8::internal::GarbageCollector)',
        'cfn=v8::internal::ScavengerCollector::CollectGarbage()',
        'calls=1 0x119dbc0',
        '20 300',
        'cfn=v8::internal::Heap::MarkCompact()',
        'calls=1 0x110d240',
        '21 900',
      ].join('\n')
      assert.deepEqual(collections(out), { scavenges: 3, markCompacts: 1 })
      assert.deepEqual(collections('fn=v8::internal::Heap::Scavenge()\n1 5\n'), { scavenges: 0, markCompacts: 0 })
      assert.equal(collections('fn=0x000000000110d240\ncfn=0x000000000119dbc0\ncalls=2 0x1\n1 5\n'), undefined)
    })

    const count = (millions: number, scavenges: number, markers: string[] = []): Count => ({ instructions: millions * 1e6, markers, gc: { scavenges, markCompacts: 0 } })

    it('says nothing more when every pair ran with the same markers and collections', () => {
      const lines = describeCounts([
        { old: count(440, 2), new: count(441, 2) },
        { old: count(440, 2), new: count(441.2, 2) },
        { old: count(440.1, 2), new: count(441, 2) },
      ])
      assert.deepEqual(lines, [
        'callgrind (node only), 3 interleaved pairs: old 440.0 M (2 scavenges), 440.0 M (2 scavenges), 440.1 M (2 scavenges); new 441.0 M (2 scavenges), 441.2 M (2 scavenges), 441.0 M (2 scavenges)',
        '  medians 440.0 M -> 441.0 M, paired difference 1.0 M (0.2%)',
        '  V8 flag markers in the code-cache folder at each run (core/bin/v8-flags.js): old none at every run; new none at every run',
      ])
    })

    it('names a pair with other collections or other markers on each side, and gives the like pairs alone', () => {
      // Session 42's +15 M: the new side's runs grew the young generation late (4 scavenges).
      const lines = describeCounts([
        { old: count(440.9, 2), new: count(456, 4) },
        { old: count(441, 2), new: count(440.1, 2) },
        { old: count(441, 2, ['large-heap-plan']), new: count(440.2, 2) },
      ])
      assert.equal(lines[1], '  medians 441.0 M -> 440.2 M, paired difference -0.8 M (-0.2%)')
      assert.equal(lines[2], '  V8 flag markers in the code-cache folder at each run (core/bin/v8-flags.js): old none; none; large-heap-plan; new none at every run')
      assert.deepEqual(lines.slice(3), [
        '  NOT LIKE FOR LIKE, pair 1: collections (2 scavenges) / (4 scavenges)',
        '  NOT LIKE FOR LIKE, pair 3: markers large-heap-plan / none (other V8 flags)',
        '  the 1 like pair alone: paired difference -0.9 M (-0.2%)',
      ])
      assert.match(describeCounts([{ old: count(440, 2), new: count(448, 4) }]).at(-1) ?? '', /no pair is like for like: count again/)
    })
  })
})
