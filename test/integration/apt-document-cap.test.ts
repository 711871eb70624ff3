// An apt.json listing more than MAX_APT_PACKAGES (plugins/apt/src/provider.ts), through the real
// binary on the test bed's root (session 37). Before, a pulled apt.json of 50,000 made-up packages
// made `plan` take 9 s, and one of 150,000 (about 13 MB, under the 64 MiB document limit) ended
// it in "internal error: Maximum call stack size exceeded". Now plan, status and apply refuse it
// (TWIN_INVALID naming the count and the limit, the next step; apply exits 2), nothing planned,
// nothing changed; `discard packages` puts it back and says so.
import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_APT_PACKAGES } from '../../plugins/apt/src/provider.js'
import { useCliRoot } from '../support/cli.js'
import { checksum, git } from '../support/in-process-twin.js'

const APT = 'system/packages/apt.json'

describe('an apt.json over MAX_APT_PACKAGES: refused before it is planned', function () {
  this.timeout(300_000)
  const root = useCliRoot()
  const said = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}:\n${r.stdout.slice(0, 3000)}\n${r.stderr.slice(0, 3000)}`

  it(`an apt.json of ${(MAX_APT_PACKAGES + 1).toLocaleString('en')} packages: plan, status and apply refuse it (TWIN_INVALID), nothing changed; discard packages puts it back`, async () => {
    const { twinDir, twinsync } = root()
    const doc = JSON.parse(await readFile(join(twinDir, APT), 'utf8')) as { packages: Record<string, unknown> }
    const sample = Object.values(doc.packages)[0]
    for (let i = Object.keys(doc.packages).length; i <= MAX_APT_PACKAGES; i++) doc.packages[`zz-made-up-${i}`] = sample
    await writeFile(join(twinDir, APT), JSON.stringify(doc))
    const state = async () => `${git(twinDir, ['rev-parse', 'HEAD'])}${git(twinDir, ['status', '--porcelain'])}${await checksum(join(root().rootfs.dir, 'var/lib/dpkg'))}`
    const before = await state()
    const refusal = /system\/packages\/apt\.json lists 50,001 packages, more than the 50,000 TwinSync takes; it was not read/
    const plan = await twinsync('plan')
    assert.equal(plan.code, 1, said(plan))
    assert.match(plan.stdout, refusal, said(plan))
    assert.match(plan.stdout, /\[TWIN_INVALID\]\n\s+Nothing of packages is planned\. Remove the added packages from the twin, or go back to the last snapshot's with `twinsync discard packages`/, said(plan))
    const status = await twinsync('status')
    assert.equal(status.code, 1, said(status))
    assert.match(status.stdout, refusal, said(status))
    const apply = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(apply.code, 2, said(apply))
    assert.match(apply.stderr, /\[PLAN_INVALID\] Nothing was applied/, said(apply))
    assert.equal(await state(), before, 'no commit, the working twin and dpkg\'s database unchanged')
    const discard = await twinsync('discard', 'packages')
    assert.equal(discard.code, 0, said(discard))
    assert.match(discard.stdout, /^Discarded the pending intent of 1 item .*\n  apt:document:system\/packages\/apt\.json  the edit of system\/packages\/apt\.json, which the apt provider could not read/, said(discard))
    assert.equal(git(twinDir, ['status', '--porcelain']), '', 'apt.json is back as the snapshot has it')
  })
})
