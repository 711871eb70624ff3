import { strict as assert } from 'node:assert'
import { lstat, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { useCliRoot } from '../support/cli.js'
import { editTwinJson } from '../support/twin-edit.js'

interface ManifestEntry {
  path: string
  mode?: string
  [key: string]: unknown
}

const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key'

/**
 * Changes a checker passes (exit 0) while the service will not run them as approved: it only
 * warns, and goes on without what the change asked for. Real tools on the server root, chrooted.
 */
describe('configuration checks: what a checker only warns about (server root, chroot)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({
    image: 'server',
    // What a booted system has and an unbooted tree lacks: sshd -t wants its privilege separation directory.
    prepare: (dir) => mkdir(join(dir, 'run/sshd'), { recursive: true }).then(() => undefined),
  })
  const modeOf = async (path: string) => ((await lstat(join(root().rootfs.dir, path))).mode & 0o7777).toString(8)
  const setMode = (path: string, mode: string) =>
    editTwinJson<{ entries: ManifestEntry[] }>(root().twinDir, 'system/files/manifest.json', (m) => {
      const entry = m.entries.find((e) => e.path === path)
      assert.ok(entry !== undefined, `${path} is in the manifest`)
      entry.mode = mode
    })

  it('refuses a host key made group-readable: sshd -t exits 0, but sshd would ignore the key', async () => {
    assert.equal(await modeOf(HOST_KEY), '600')
    await setMode(HOST_KEY, '0640')
    const { code, steps, out } = await root().apply()
    assert.equal(code, 1, out)
    const step = [...steps.values()].find((s) => s.id.endsWith(`:${HOST_KEY}`))
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.message ?? '', /`sshd -t` rejects the new sshd configuration; the previous files are back/)
    assert.match(step?.outputTail ?? '', /Permissions 0640 for '\/etc\/ssh\/ssh_host_ed25519_key' are too open[\s\S]*This private key will be ignored/)
    assert.equal(await modeOf(HOST_KEY), '600', 'the key keeps its mode')
    await setMode(HOST_KEY, '0600')
  })
})
