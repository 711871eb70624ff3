import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkPlanSeal, sealPlan, twinKey } from '../src/plan/plan-seal.js'

/** The twin's own key (plans' seals, snapshots' recorded counts): whole or not there, whatever stopped a run. */
describe('the twin key (plan-seal.ts)', () => {
  let dir: string
  const keyFile = () => join(dir, '.git', 'twinsync', 'plan-seal.key')
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-key-'))
    await mkdir(join(dir, '.git'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('a key file left empty or short (a run killed while writing it) is replaced by a whole one; plans are sealed', async () => {
    for (const left of [Buffer.alloc(0), Buffer.alloc(7, 1)]) {
      await mkdir(join(dir, '.git', 'twinsync'), { recursive: true })
      await writeFile(keyFile(), left, { mode: 0o600 })
      const key = await twinKey(dir, true)
      assert.equal(key?.length, 32)
      assert.deepEqual(await readFile(keyFile()), key)
      assert.equal((await stat(keyFile())).mode & 0o777, 0o600)
      const plan = { changes: [{ id: 'a' }] }
      const seal = await sealPlan(dir, plan)
      assert.deepEqual(await checkPlanSeal(dir, 'plan.json', { ...plan, seal }, 'Make the plan again.'), plan)
      await rm(join(dir, '.git', 'twinsync'), { recursive: true })
    }
  })

  it('two runs at once agree on one key', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => twinKey(dir, true)))
    for (const k of keys) assert.deepEqual(k, keys[0])
    assert.deepEqual(await readFile(keyFile()), keys[0])
  })
})
