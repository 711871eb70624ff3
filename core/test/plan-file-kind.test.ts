import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { readPlanFile } from '../src/services/make-plan.js'

/**
 * Session 41 (attack): `twinsync apply FILE` with a FIFO waited for a writer for ever, and with
 * /dev/zero read about 512 MB before it failed. A saved plan is a regular file: anything else is
 * PLAN_INVALID at once, naming what it is.
 */
describe('a saved plan that is not a regular file is refused at once (PLAN_INVALID)', function () {
  this.timeout(5_000)
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-plan-kind-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const refused = async (path: string, what: RegExp) => {
    const error = await readPlanFile(path, { root: '/', repo: dir }).then(() => undefined, (e: unknown) => e)
    assert.ok(isTwinSyncError(error), String(error))
    assert.equal(error.code, 'PLAN_INVALID')
    assert.match(error.message, what)
  }

  it('a FIFO: refused without waiting for a writer', async () => {
    const fifo = join(dir, 'plan.json')
    execFileSync('mkfifo', [fifo])
    await refused(fifo, /is a FIFO, not a saved plan/)
  })

  it('a device (/dev/zero): refused without reading it', async () => {
    await refused('/dev/zero', /is a device, not a saved plan/)
  })

  it('a folder: refused, naming it', async () => {
    await refused(dir, /is a folder, not a saved plan/)
  })
})
