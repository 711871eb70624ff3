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
import { pullRefused, refusedBeforePlanned, said } from '../support/document-cap.js'

const APT = 'system/packages/apt.json'

describe('an apt.json over MAX_APT_PACKAGES: refused before it is planned', function () {
  this.timeout(300_000)
  const root = useCliRoot()

  it(`an apt.json of ${(MAX_APT_PACKAGES + 1).toLocaleString('en')} packages: plan, status and apply refuse it (TWIN_INVALID), nothing changed; discard packages puts it back`, async () => {
    const { twinDir, twinsync } = root()
    const doc = JSON.parse(await readFile(join(twinDir, APT), 'utf8')) as { packages: Record<string, unknown> }
    const sample = Object.values(doc.packages)[0]
    for (let i = Object.keys(doc.packages).length; i <= MAX_APT_PACKAGES; i++) doc.packages[`zz-made-up-${i}`] = sample
    await writeFile(join(twinDir, APT), JSON.stringify(doc))
    const state = async () => `${git(twinDir, ['rev-parse', 'HEAD'])}${git(twinDir, ['status', '--porcelain'])}${await checksum(join(root().rootfs.dir, 'var/lib/dpkg'))}`
    await refusedBeforePlanned(
      twinsync,
      /system\/packages\/apt\.json lists 50,001 packages, more than the 50,000 TwinSync takes; it was not read/,
      /\[TWIN_INVALID\]\n\s+Nothing of packages is planned\. Remove the added packages from the twin, or go back to the last snapshot's with `twinsync discard packages --root [^`]+`/,
      state,
      'no commit, the working twin and dpkg\'s database unchanged',
    )
    const discard = await twinsync('discard', 'packages')
    assert.equal(discard.code, 0, said(discard))
    assert.match(discard.stdout, /^Discarded the pending intent of 1 item .*\n  apt:document:system\/packages\/apt\.json  the edit of system\/packages\/apt\.json, which the apt provider could not read/, said(discard))
    assert.equal(git(twinDir, ['status', '--porcelain']), '', 'apt.json is back as the snapshot has it')
  })

  // Session 38: a pull took such an apt.json in (only the files manifest was asked at a pull), and
  // every plan after it refused; now the pull refuses the mirror whole, asking the apt provider's
  // overLimit, before anything moves. apt-pins.json too (the same count, a document a person owns).
  for (const [document, key] of [[APT, 'packages'], ['system/packages/apt-pins.json', 'pins']] as const) {
    it(`a pull of a mirror whose ${document} lists ${(MAX_APT_PACKAGES + 1).toLocaleString('en')} ${key === 'pins' ? 'pins' : 'packages'} is TWIN_UNSAFE (exit 2) before the working twin moves`, async () => {
      const { twinDir, twinsync, cli } = root()
      const base = JSON.parse(await readFile(join(twinDir, APT), 'utf8')) as { packages: Record<string, unknown> }
      const sample = key === 'pins' ? '1.0' : Object.values(base.packages)[0]
      const listed: Record<string, unknown> = {}
      for (let i = 0; i <= MAX_APT_PACKAGES; i++) listed[`zz-made-up-${i}`] = sample
      const pull = await pullRefused(twinDir, twinsync, cli.dir, (clone) => writeFile(join(clone, document), JSON.stringify(key === 'pins' ? { pins: listed } : { ...base, packages: listed })), `a mirror brings ${document} of 50,001`, new RegExp(`\\[TWIN_UNSAFE\\] Not pulled: the mirror's twin at [0-9a-f]{12}: ${document.replace(/[./]/g, '\\$&')} lists 50,001 packages, more than the 50,000 TwinSync takes`))
      assert.match(pull.stderr, /Next step: Nothing here was changed\. Take those entries out on the mirror/, said(pull))
    })
  }
})
