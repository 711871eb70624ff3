// How many git processes an apply runs, counted through the real git by a wrapper on TwinSync's
// own PATH (setOwnPathForTests): session 23 found an apply of one small /etc file running about
// 60–90 of them, because the pending intent was set aside, compared and recorded again and
// again (object-memo.ts, IntentService.promote). Counts, not times: the machine's load does
// not change them. One small hand-made root and one twin for the whole file (cheap).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SAFE_PATH, setOwnPathForTests } from '@twinsync/sdk'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { smallTwin, type SmallTwin } from '../support/in-process-twin.js'

describe('git processes of an apply (counted through a wrapper around the real git)', function () {
  this.timeout(300_000)
  let small: SmallTwin
  let bin: string
  const log = () => join(bin, 'git.log')

  before(async () => {
    small = await smallTwin('twinsync-git-count-')
    bin = await mkdtemp(join(tmpdir(), 'twinsync-git-count-bin-'))
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
    await writeFile(join(bin, 'git'), `#!/bin/bash\nline="$*"\nprintf '%s\\n' "\${line//$'\\n'/ }" >> '${log()}'\nexec ${real} "$@"\n`, { mode: 0o755 })
  })
  after(async () => {
    setOwnPathForTests(undefined)
    if (bin !== undefined) await rm(bin, { recursive: true, force: true })
    if (small !== undefined) await rm(small.dir, { recursive: true, force: true })
  })

  /** The git commands `run` started, one line each. */
  async function counted(run: () => Promise<unknown>): Promise<string[]> {
    await rm(log(), { force: true })
    setOwnPathForTests(`${bin}:${SAFE_PATH}`)
    try {
      await run()
    } finally {
      setOwnPathForTests(undefined)
    }
    // One line a process (a message's new lines made spaces), without TwinSync's `-c` settings.
    return (await readFile(log(), 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => l.replace(/^(?:-c \S+ )+/, ''))
  }

  async function applyEdited(edit: () => Promise<void>): Promise<string[]> {
    await edit()
    const plan = await (await small.container()).resolve(PlanWorkflow).plan({})
    assert.equal(plan.changes.length, 1, JSON.stringify(plan.changes.map((c) => c.id)))
    let exitCode: number | undefined
    const lines = await counted(async () => {
      exitCode = (await (await small.container()).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal })).exitCode
    })
    assert.equal(exitCode, 0)
    return lines
  }

  // Session 23: 92 before (the same pair of trees compared up to seven times, a commit's tree
  // asked for again and again, the promotion's comparison made three times), 54 since; see
  // object-memo.ts and IntentService.promote. The aim is 25 or fewer (docs/architecture.md).
  it('an apply of one edited file with nothing else pending runs at most 60', async () => {
    const lines = await applyEdited(() => writeFile(join(small.twin, 'filesystem/etc/motd'), 'Welcome to the twin\n'))
    assert.equal(await readFile(join(small.root, 'etc/motd'), 'utf8'), 'Welcome to the twin\n')
    assert.ok(lines.length <= 60, `${lines.length} git processes:\n${lines.join('\n')}`)
    // Nothing is left pending, and the same question is never asked of the same commit twice.
    const trees = lines.filter((l) => / rev-parse [0-9a-f]{40}\^\{tree\}$/.test(l))
    assert.equal(new Set(trees).size, trees.length, trees.join('\n'))
  })
})
