// The twin's executable bit (session 42): git keeps one mode bit, and a person's or a mirror's
// `chmod +x` in the twin is an ask like the manifest's mode. Before, it was dropped without a
// word: the plan planned nothing for a listed file, a new script was planned 0644, and the next
// snapshot wrote 100644. Now the whole way: planned (rated as any chmod that makes a file run),
// applied, recorded by the next snapshot (100755, manifest 0755), nothing pending after.
// hostile-twin.test.ts has the pull side (a mirror commit; status lists it; a snapshot keeps it).
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { chmod, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { IntentService } from '../../core/src/intent/intent-service.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { git, smallTwin } from '../support/in-process-twin.js'

describe('the twin\'s executable bit', function () {
  this.timeout(120_000)

  it('chmod +x of a listed file and a new script made executable in the working twin: planned 0755 (high risk: made executable under /etc), applied, recorded 100755 and 0755, nothing pending after', async () => {
    const t = await smallTwin('twinsync-execbit-')
    try {
      git(t.twin, ['update-index', '--chmod=+x', 'filesystem/etc/motd'])
      await chmod(join(t.twin, 'filesystem/etc/motd'), 0o755)
      writeFileSync(join(t.twin, 'filesystem/etc/backup.sh'), '#!/bin/sh\necho backup\n', { mode: 0o755 })
      const plan = await (await t.container()).resolve(PlanWorkflow).plan({})
      assert.deepEqual(
        plan.changes.map((c) => [c.id, c.risk, c.after?.split(' ')[1]]),
        [
          ['files:create:/etc/backup.sh', 'high', '0755'],
          ['files:chmod:/etc/motd', 'high', '0755'],
        ],
      )
      await (await t.container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal })
      for (const path of ['etc/motd', 'etc/backup.sh']) assert.equal(((await stat(join(t.root, path))).mode & 0o777).toString(8), '755', path)
      assert.match(git(t.twin, ['ls-tree', 'HEAD', 'filesystem/etc/motd']), /^100755 /)
      assert.match(git(t.twin, ['ls-tree', 'HEAD', 'filesystem/etc/backup.sh']), /^100755 /)
      const manifest = JSON.parse(git(t.twin, ['show', 'HEAD:system/files/manifest.json'])) as { entries: Array<{ path: string; mode?: string }> }
      assert.deepEqual(manifest.entries.filter((e) => e.path === '/etc/motd' || e.path === '/etc/backup.sh').map((e) => [e.path, e.mode]), [['/etc/backup.sh', '0755'], ['/etc/motd', '0755']])
      assert.deepEqual((await (await t.container()).resolve(IntentService).pending()).items, [])
      assert.deepEqual((await (await t.container()).resolve(PlanWorkflow).plan({})).changes, [])
    } finally {
      await rm(t.dir, { recursive: true, force: true })
    }
  })
})
