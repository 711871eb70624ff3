import { strict as assert } from 'node:assert'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

/** A package a person adds to apt.json without a version: the plan installs the archive's candidate and says so. */
describe('apt.json entry without a version (Debian root, real dpkg status)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...a: string[]) => cli.twinsync([...a, '--root', rootfs.dir, '--repo', cli.twinDir])

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    assert.equal((await twinsync('snapshot', '--init')).code, 0)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('plans "install hello (the candidate version)" with no version typed', async () => {
    const path = join(cli.twinDir, 'system/packages/apt.json')
    const doc = JSON.parse(await readFile(path, 'utf8')) as { nativeArchitecture: string; packages: Record<string, unknown> }
    assert.equal(doc.packages.hello, undefined, 'hello is not in the Debian root')
    doc.packages.hello = { architecture: doc.nativeArchitecture, manual: true, hold: false }
    await writeFile(path, JSON.stringify(doc, null, 2) + '\n')
    const r = await twinsync('plan', '--only', 'packages', '--json')
    assert.equal(r.code, 0, r.stderr)
    const plan = json<{ changes: Array<{ id: string; summary: string; after?: string }>; diagnostics: Array<{ code: string }> }>(r)
    assert.deepEqual(plan.changes.map((c) => [c.id, c.summary, c.after]), [['apt:install:hello', 'install hello (the candidate version)', 'the candidate version']])
    assert.ok(!plan.diagnostics.some((d) => d.code === 'APT_VERSION_FROM_ARCHIVE'), JSON.stringify(plan.diagnostics))
    const text = await twinsync('plan', '--only', 'packages')
    assert.match(text.stdout, /install hello \(the candidate version\)/, text.stdout)
  })
})
