import { strict as assert } from 'node:assert'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { COARSE_RACY_MS, secretScanCount, silentLogger } from '@twinsync/sdk'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'
import { createContainer } from '../../core/src/container.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'

const noPlugins = { runHook: async () => ({ successes: [], failures: [] }) } as unknown as Parameters<typeof createContainer>[0]['oclif']

/**
 * The secret detector is the costly part of reading a machine's text: a snapshot of a machine
 * that did not change must not ask it about anything (the files provider keeps its verdicts with
 * the files' signatures, the snapshot does not screen again what HEAD holds byte for byte).
 * Counted in this process, where the built-in providers run.
 */
describe('secret detector calls of a snapshot (services root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  before(async () => {
    rootfs = await freshRootfs('server')
    cli = await cliSandbox()
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })
  const snapshot = async (init: boolean): Promise<number> => {
    const container = await createContainer({ root: rootfs.dir, repo: cli.twinDir, configPath: cli.configFile, oclif: noPlugins, logger: silentLogger })
    const before = secretScanCount()
    await container.resolve(SnapshotWorkflow).take({ init, ifChanged: false })
    return secretScanCount() - before
  }

  it('asks about every new text once, and about nothing when the machine did not change', async () => {
    assert.ok((await snapshot(true)) > 0, 'the first snapshot screens what it reads')
    assert.equal(await snapshot(false), 0, 'an unchanged snapshot asked the detector')
    assert.equal(await snapshot(false), 0, 'an unchanged snapshot asked the detector')
    // The count sees the providers' calls: a file the administrator added is asked about.
    await writeFile(join(rootfs.dir, 'etc/default/worker'), 'WORKER_MODE=prod\n')
    // Past the racy window (COARSE_RACY_MS): a file changed just before a read is read again next time.
    await new Promise((resolve) => setTimeout(resolve, COARSE_RACY_MS + 100))
    assert.ok((await snapshot(false)) > 0, 'a new file was not screened')
    assert.equal(await snapshot(false), 0, 'an unchanged snapshot asked the detector')
  })
})
