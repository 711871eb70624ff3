// A twin file outside the files provider's include set (committed by hand, or brought by a pull):
// before session 38 the files provider's load turned it into a warning, not a change. `status`
// said "nothing pending" (exit 0), `plan` "No changes", and the next snapshot (a scheduled one
// too) dropped it from the twin without a word. It is a change now, left out by the one scope
// rule (outOfScope): pending and never applied until it is discarded, through the real binary.
import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../bed/index.js'
import { commitTwin, json, smallCliRoot, type CliSandbox } from '../support/cli.js'

interface StatusJson {
  pending: { count: number; items: Array<{ id: string; reason: string; code?: string; nextStep?: string }> }
}
interface PlanJson {
  changes: Array<{ id: string }>
  diagnostics: Array<{ code: string; severity: string; summary: string; detail?: string; change?: string }>
}

const ID = 'files:create:/opt/app/conf'
const DOC = 'filesystem/opt/app/conf'

describe('a twin file outside the include set is never dropped silently: pending until discarded', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const status = async () => json<StatusJson>(await twinsync('status', '--json'))
  const doc = () => join(cli.twinDir, DOC)

  before(async () => {
    ;({ cli, root } = await smallCliRoot())
  })
  after(() => cli.cleanup())

  it('committed by hand: status lists it as never applied (not in sync), plan leaves it out and names it', async () => {
    await mkdir(join(doc(), '..'), { recursive: true })
    await writeFile(doc(), 'port = 8080\n')
    await commitTwin(cli.twinDir, 'add the app config')

    const s = await status()
    const item = s.pending.items.find((i) => i.id === ID)
    assert.equal(item?.code, 'FILES_OUTSIDE_SCOPE', JSON.stringify(s.pending))
    assert.match(item?.reason ?? '', /^never applied: \/opt\/app\/conf is outside the files provider's scope \(not under any path of files\.include\)/)
    assert.match(item?.nextStep ?? '', /add the path .* to files\.include/)
    assert.deepEqual(s.pending.items.map((i) => i.id), [ID], 'no folder of it asked for')
    const text = await twinsync('status')
    assert.match(text.stdout, /files:create:\/opt\/app\/conf .*\(never applied: .*\) \[FILES_OUTSIDE_SCOPE\]\n\s+Next step: If you meant it, add the path/)
    assert.doesNotMatch(text.stdout, /nothing pending/i)
    assert.equal((await twinsync('status', '--exit-code')).code, 1, 'not in sync')

    const plan = await twinsync('plan', '--json')
    const p = json<PlanJson>(plan)
    assert.deepEqual(p.changes, [])
    assert.deepEqual(p.diagnostics.filter((d) => d.code === 'FILES_OUTSIDE_SCOPE').map((d) => [d.severity, d.change]), [['warning', ID]])
    assert.match((await twinsync('plan')).stdout, /^No changes planned: 1 change the twin asks for is left out/m)
  })

  it('the next snapshots keep it in the twin and say it is pending; the machine never gets it', async () => {
    for (const moved of ['the machine moved\n', 'and again\n']) {
      await writeFile(join(root, 'etc/motd'), moved)
      const snap = await twinsync('snapshot')
      assert.equal(snap.code, 0, snap.stdout + snap.stderr)
      assert.match(snap.stdout, /^Pending intent kept on top of it \(1 twin file: filesystem\/opt\/app\/conf\); `twinsync status [^`]*` lists the items\.$/m, snap.stdout)
      assert.equal(await readFile(doc(), 'utf8'), 'port = 8080\n', 'still in the working twin')
      const intended = await run(['git', '-C', cli.twinDir, 'show', `refs/twinsync/intended:${DOC}`])
      assert.equal(intended.stdout, 'port = 8080\n', 'recorded in refs/twinsync/intended')
      assert.deepEqual((await status()).pending.items.map((i) => [i.id, i.code]), [[ID, 'FILES_OUTSIDE_SCOPE']])
    }
    assert.equal(existsSync(join(root, 'opt/app/conf')), false)
  })

  it('`discard files` drops it deliberately: out of the twin, in sync, and the next snapshot leaves it out', async () => {
    const discarded = await twinsync('discard', 'files')
    assert.equal(discarded.code, 0, discarded.stdout + discarded.stderr)
    assert.equal(existsSync(doc()), false, 'out of the working twin')
    assert.deepEqual((await status()).pending.items, [])
    assert.equal((await twinsync('status', '--exit-code')).code, 0, 'in sync')
    assert.equal((await twinsync('snapshot')).code, 0)
    const head = await run(['git', '-C', cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD'])
    assert.ok(!head.stdout.includes(DOC), 'nor on the branch')
  })
})
