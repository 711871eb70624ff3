import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, run, type Container } from '../bed/index.js'

/** The whole path on a booted machine: twinsync runs inside, the twin is read from outside. */
describe('snapshot inside a booted Debian container', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let container: Container | undefined

  after(async () => {
    await container?.close()
  })

  it('takes a snapshot of the live system and commits it to the default twin', async () => {
    container = await bootContainer()
    const r = await container.twinsync(['snapshot', '--init', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const result = JSON.parse(r.stdout) as { commit: string; repo: string }
    assert.equal(result.repo, '/var/lib/twinsync/twin', 'root gets the system-wide twin')

    // Read the twin from outside: the container's writes land in its overlay upper dir.
    const twin = join(container.upperDir, 'var/lib/twinsync/twin')
    const head = await run(['git', '-C', twin, 'log', '-1', '--format=%H %s%n%b'])
    assert.equal(head.code, 0, head.stderr)
    assert.match(head.stdout.trim(), new RegExp(`^${result.commit} first snapshot: \\d+ files, .*\\nTwinSync snapshot `))

    const os = JSON.parse(await readFile(join(twin, 'system/os.json'), 'utf8'))
    assert.equal(os.kernel.available, true, 'a running system has a kernel')
    const top = JSON.parse(await readFile(join(twin, 'system/processes/top.json'), 'utf8'))
    assert.equal(top.available, true)
    assert.ok(top.byCpu.some((p: { command: string }) => /systemd|init/.test(p.command)), 'systemd is among the processes')
    const network = JSON.parse(await readFile(join(twin, 'system/network/network.json'), 'utf8'))
    assert.equal(network.hostname, container.name)
    const journal = await readFile(join(twin, 'system/logs/journal.txt'), 'utf8')
    assert.ok(journal.length > 0, 'the journal tail is kept')
  })

  it('skips a scheduled snapshot when only volatile facts moved, and leaves the twin clean', async () => {
    assert.ok(container, 'booted by the previous test')
    const twin = join(container.upperDir, 'var/lib/twinsync/twin')
    const before = await run(['git', '-C', twin, 'rev-list', '--count', 'HEAD'])
    const r = await container.twinsync(['snapshot', '--if-changed', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as { commit?: string; skipped: string; summary: Record<string, unknown> }
    assert.equal(result.commit, undefined)
    // Processes and usage always move on a running system; anything else would be a real change.
    assert.equal(result.skipped, 'volatile-only', JSON.stringify(result.summary))
    assert.equal((await run(['git', '-C', twin, 'rev-list', '--count', 'HEAD'])).stdout, before.stdout)
    assert.equal((await run(['git', '-C', twin, 'status', '--porcelain'])).stdout, '', 'volatile changes were put back')
  })
})
