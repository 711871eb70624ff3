import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { useCliRoot } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

interface ManifestEntry {
  path: string
  mode?: string
  [key: string]: unknown
}

const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key'
const HBA = '/etc/postgresql/17/main/pg_hba.conf'

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
  const sha = async (path: string) => createHash('sha256').update(await readFile(join(root().rootfs.dir, path))).digest('hex')
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

  it('parses pg_hba.conf with a throwaway cluster when the cluster does not answer: a broken line is refused', async () => {
    // Not booted: the cluster does not run, as on a machine where it is stopped.
    const before = await sha(HBA)
    const live = await root().live(HBA)
    await writeTwinFile(root().twinDir, `filesystem${HBA}`, `${live}host all all 192.0.2.0/33 scram-sha-256\n`)
    const refused = await root().apply()
    assert.equal(refused.code, 1, refused.out)
    const step = refused.steps.get(`files:replace:${HBA}`)
    assert.equal(step?.status, 'failed', refused.out)
    assert.match(step?.message ?? '', /rejects the new postgresql configuration; the previous files are back; postgresql\.service left alone/)
    assert.match(step?.outputTail ?? '', /pg_hba\.conf line \d+: invalid CIDR mask in address "192\.0\.2\.0\/33"/)
    assert.equal(await sha(HBA), before, 'the live pg_hba.conf is as it was')

    // A good pg_hba.conf passing the same way: config-checks-services.test.ts (its postgresql.conf change runs it).
  })
})
