// The twin's autostart entries over MAX_AUTOSTART_ENTRIES (plugins/autostart/src/load.ts), through
// the real binary on the test bed's root (session 39). Before, the autostart provider read its
// documents whatever their number (its .desktop files are its own, not counted by the files
// manifest's cap): an autostart.json of 400,000 entries took 8.3 s to check on every plan and
// status, 200,000 .desktop files 5.8 s and 567 MB to load and diff, and a pull took such a mirror
// in. Now plan, status and apply refuse more (TWIN_INVALID naming the count and the limit, the
// next step; apply exits 2), nothing changed; a pull refuses such a mirror whole (TWIN_UNSAFE,
// exit 2). The .desktop files' count is the same rule (plugins/autostart/test/autostart-cap.test.ts).
import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { useCliRoot } from '../support/cli.js'
import { checksum, git } from '../support/in-process-twin.js'
import { pullRefused, refusedBeforePlanned, said } from '../support/document-cap.js'

/** The cap as written here (not imported: the test's data does not hang on the code it checks). */
const MAX_AUTOSTART_ENTRIES = 50_000
const AUTOSTART_JSON = 'system/startup/autostart.json'

/** The twin's autostart.json with made-up entries added up to `n` (an owner, group and mode each: what an apply sets). */
async function listing(twinDir: string, n: number): Promise<string> {
  const doc = JSON.parse(await readFile(join(twinDir, AUTOSTART_JSON), 'utf8')) as { entries: unknown[] }
  for (let i = doc.entries.length; i < n; i++) doc.entries.push({ path: `/etc/xdg/autostart/made-up-${i}.desktop`, mode: '0644', owner: 'root', group: 'root' })
  return JSON.stringify(doc)
}

describe('autostart entries over MAX_AUTOSTART_ENTRIES: refused before they are planned, and by a pull', function () {
  this.timeout(300_000)
  const root = useCliRoot()

  it(`an autostart.json listing ${(MAX_AUTOSTART_ENTRIES + 1).toLocaleString('en')} entries: plan, status and apply refuse it (TWIN_INVALID), nothing changed; its next step, \`twinsync discard startup\`, puts the last snapshot's back`, async () => {
    const { twinDir, twinsync } = root()
    const last = await readFile(join(twinDir, AUTOSTART_JSON), 'utf8')
    await writeFile(join(twinDir, AUTOSTART_JSON), await listing(twinDir, MAX_AUTOSTART_ENTRIES + 1))
    const state = async () => `${git(twinDir, ['rev-parse', 'HEAD'])}${git(twinDir, ['status', '--porcelain', '--untracked-files=all'])}${await checksum(join(root().rootfs.dir, 'etc/xdg'))}`
    await refusedBeforePlanned(
      twinsync,
      /system\/startup\/autostart\.json lists 50,001 entries, more than the 50,000 TwinSync takes; it was not read/,
      /\[TWIN_INVALID\]\n\s+Nothing is planned for autostart\. Take the added entries out of system\/startup\/autostart\.json, or go back to the last snapshot's with `twinsync discard startup --root [^`]+`/,
      state,
      'no commit, the working twin and /etc/xdg unchanged',
    )
    // The next step as said (session 39: a discard left the added entries' owner, group and mode, the document still modified).
    const discard = await twinsync('discard', 'startup')
    assert.equal(discard.code, 0, said(discard))
    assert.equal(await readFile(join(twinDir, AUTOSTART_JSON), 'utf8'), last, "the last snapshot's autostart.json")
    assert.equal(git(twinDir, ['status', '--porcelain', '--untracked-files=all']), '', 'the working twin is its last commit')
    const status = await twinsync('status')
    assert.equal(status.code, 0, said(status))
  })

  it(`a pull of a mirror whose autostart.json lists ${(MAX_AUTOSTART_ENTRIES + 1).toLocaleString('en')} entries is TWIN_UNSAFE (exit 2) before the working twin moves`, async () => {
    const { twinDir, twinsync, cli } = root()
    const text = await listing(twinDir, MAX_AUTOSTART_ENTRIES + 1)
    await pullRefused(
      twinDir,
      twinsync,
      cli.dir,
      async (clone) => {
        await writeFile(join(clone, AUTOSTART_JSON), text)
      },
      'a mirror brings an autostart.json of 50,001 entries',
      /\[TWIN_UNSAFE\] Not pulled: the mirror's twin at [0-9a-f]{12}: system\/startup\/autostart\.json lists 50,001 entries, more than the 50,000 TwinSync takes/,
    )
  })
})
