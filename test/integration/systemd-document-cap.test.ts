// A units.json listing more than MAX_SYSTEMD_UNITS (plugins/systemd/src/provider.ts), through the
// real binary on the test bed's root (session 37): plan, status and apply refuse it (TWIN_INVALID
// naming the count and the limit, the next step; apply exits 2), nothing planned, nothing changed;
// `discard services` puts it back and says so.
import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_SYSTEMD_UNITS } from '../../plugins/systemd/src/provider.js'
import { useCliRoot } from '../support/cli.js'
import { checksum, git } from '../support/in-process-twin.js'
import { pullRefused, refusedBeforePlanned, said } from '../support/document-cap.js'

const UNITS = 'system/services/units.json'

describe('a units.json over MAX_SYSTEMD_UNITS: refused before it is planned', function () {
  this.timeout(300_000)
  const root = useCliRoot()

  it(`a units.json of ${(MAX_SYSTEMD_UNITS + 1).toLocaleString('en')} units: plan, status and apply refuse it (TWIN_INVALID), nothing changed; discard services puts it back`, async () => {
    const { twinDir, twinsync } = root()
    const doc = JSON.parse(await readFile(join(twinDir, UNITS), 'utf8')) as { units: Record<string, unknown> }
    for (let i = Object.keys(doc.units).length; i <= MAX_SYSTEMD_UNITS; i++) doc.units[`zz-made-up-${i}.service`] = { state: 'enabled' }
    await writeFile(join(twinDir, UNITS), JSON.stringify(doc))
    const state = async () => `${git(twinDir, ['rev-parse', 'HEAD'])}${git(twinDir, ['status', '--porcelain'])}${await checksum(join(root().rootfs.dir, 'etc/systemd'))}`
    await refusedBeforePlanned(
      twinsync,
      /system\/services\/units\.json lists 50,001 units, more than the 50,000 TwinSync takes; it was not read/,
      /\[TWIN_INVALID\]\n\s+Nothing is planned for services\. Remove the added units from the twin, or go back to the last snapshot's with `twinsync discard services --root [^`]+`/,
      state,
      'no commit, the working twin and /etc/systemd unchanged',
    )
    const discard = await twinsync('discard', 'services')
    assert.equal(discard.code, 0, said(discard))
    assert.match(discard.stdout, /^Discarded the pending intent of 1 item .*\n  systemd:document:system\/services\/units\.json  the edit of system\/services\/units\.json, which the systemd provider could not read/, said(discard))
    assert.equal(git(twinDir, ['status', '--porcelain']), '', 'units.json is back as the snapshot has it')
  })

  // Session 41: load read only `units`; an edit under another key ("unit", a slip of the pen)
  // planned nothing, status said "In sync" (exit 0), and the next snapshot wrote units.json again
  // without it: asked for, lost without a word. Now it is refused by name and stays pending.
  it('a units.json edit under a key beside "units": refused by name (TWIN_INVALID), kept by a snapshot, put back only by discard', async () => {
    const { twinDir, twinsync } = root()
    const doc = JSON.parse(await readFile(join(twinDir, UNITS), 'utf8')) as Record<string, unknown>
    doc.unit = { 'cron.service': { state: 'disabled' } }
    const edited = JSON.stringify(doc, null, 2)
    await writeFile(join(twinDir, UNITS), edited)
    const state = async () => `${git(twinDir, ['rev-parse', 'HEAD'])}${git(twinDir, ['status', '--porcelain'])}${await checksum(join(root().rootfs.dir, 'etc/systemd'))}`
    await refusedBeforePlanned(
      twinsync,
      /system\/services\/units\.json: "unit": unknown key \(only "units" is read\)/,
      /\[TWIN_INVALID\]\n\s+Put the units under "units" in system\/services\/units\.json .* or go back to the last snapshot's with `twinsync discard services --root [^`]+`/,
      state,
      'no commit, the working twin and /etc/systemd unchanged',
    )
    const snapshot = await twinsync('snapshot')
    assert.equal(snapshot.code, 0, said(snapshot))
    assert.match(snapshot.stdout, /Pending intent kept on top of it \(1 twin file: system\/services\/units\.json\)/, said(snapshot))
    assert.equal(await readFile(join(twinDir, UNITS), 'utf8'), edited, 'the edit is still in the working twin')
    const discard = await twinsync('discard', 'services')
    assert.equal(discard.code, 0, said(discard))
    assert.match(discard.stdout, /systemd:document:system\/services\/units\.json  the edit of system\/services\/units\.json, which the systemd provider could not read/, said(discard))
    assert.equal(git(twinDir, ['status', '--porcelain']), '', 'units.json is back as the snapshot has it')
  })

  // Session 38: a pull took such a units.json in (only the files manifest was asked at a pull), and
  // every plan after it refused; now the pull refuses the mirror whole, asking the systemd
  // provider's overLimit, before anything moves. runtime.json too (the same count).
  for (const document of [UNITS, 'system/services/runtime.json']) {
    it(`a pull of a mirror whose ${document} lists ${(MAX_SYSTEMD_UNITS + 1).toLocaleString('en')} units is TWIN_UNSAFE (exit 2) before the working twin moves`, async () => {
      const { twinDir, twinsync, cli } = root()
      const units: Record<string, unknown> = {}
      for (let i = 0; i <= MAX_SYSTEMD_UNITS; i++) units[`zz-made-up-${i}.service`] = document === UNITS ? { state: 'enabled' } : { active: 'active', sub: 'running' }
      const pull = await pullRefused(twinDir, twinsync, cli.dir, (clone) => writeFile(join(clone, document), JSON.stringify({ units })), `a mirror brings ${document} of 50,001 units`, new RegExp(`\\[TWIN_UNSAFE\\] Not pulled: the mirror's twin at [0-9a-f]{12}: ${document.replace(/[./]/g, '\\$&')} lists 50,001 units, more than the 50,000 TwinSync takes`))
      assert.match(pull.stderr, /Next step: Nothing here was changed\. Take those entries out on the mirror/, said(pull))
    })
  }
})
