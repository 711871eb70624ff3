import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { generateKeyPairSync } from 'node:crypto'
import { lstat, readFile, readlink, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isRacy, MemoryTwin, type Change, type HostPort, type ProviderContext, type TwinDocument } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider, type Manifest, type ManifestEntry } from '@twinsync/plugin-files'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'

const provider = new FilesProvider()

/** A real private key, as a person would paste it: PEM, PKCS#8. */
function privateKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
}

function manifestOf(documents: readonly TwinDocument[]): Manifest {
  const doc = documents.find((d) => d.path === 'system/files/manifest.json')
  assert.ok(doc, 'the twin has system/files/manifest.json')
  return JSON.parse(String(doc.content)) as Manifest
}

function entryOf(manifest: Manifest, path: string): ManifestEntry {
  const entry = manifest.entries.find((e) => e.path === path)
  assert.ok(entry, `the manifest lists ${path}`)
  return entry
}

/** Count the files the provider reads through the host port. */
function countingReads(ctx: ProviderContext): { ctx: ProviderContext; reads: () => number; paths: string[] } {
  let count = 0
  const paths: string[] = []
  const host = new Proxy(ctx.host, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      if (key === 'readFile' || key === 'readTextIfExists') {
        return (path: string) => {
          count++
          paths.push(path)
          return (value as HostPort['readFile']).call(target, path)
        }
      }
      return (value as (...args: unknown[]) => unknown).bind(target)
    },
  })
  return { ctx: { ...ctx, host }, reads: () => count, paths }
}

describe('files provider on a real Debian bookworm root file system', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs | undefined
  let root: string
  let ctx: ProviderContext
  const plantedKey = privateKeyPem()
  const pastedKey = privateKeyPem()

  before(async () => {
    rootfs = await freshRootfs()
    root = rootfs.dir
    // sudo brings visudo and /etc/sudoers; openssh-server brings sshd and real host keys. The
    // rootfs ships its apt lists, so no `apt-get update` is needed (a few seconds).
    await chrootOk(root, 'apt-get', ['install', '-y', '--no-install-recommends', 'sudo', 'openssh-server'], { timeoutMs: 300_000 })
    await chrootOk(root, 'useradd', ['-m', '-u', '1500', 'deploy'])
    // Debian makes /etc/ssl/private with the ssl-cert package; minbase lacks it.
    await mkdir(join(root, 'etc/ssl/private'), { recursive: true, mode: 0o700 })
    await writeFile(join(root, 'etc/ssl/private/planted.key'), plantedKey, { mode: 0o600 })
    await mkdir(join(root, 'etc/app'))
    await writeFile(join(root, 'etc/app/app.conf'), `[tls]\ncert = /etc/ssl/certs/app.pem\nkey = """\n${pastedKey}"""\n`)
    await writeFile(join(root, 'etc/adduser.conf'), (await readFile(join(root, 'etc/adduser.conf'), 'utf8')) + 'EXTRA_GROUPS="users"\n')
    ctx = createTestContext(root)
  })

  after(async () => {
    await rootfs?.cleanup()
  })

  it('records /etc/sudoers as 0440 root:root from the sudo package', async () => {
    const sudoers = entryOf(manifestOf((await provider.collect({ ctx })).documents), '/etc/sudoers')
    assert.deepEqual(
      [sudoers.mode, sudoers.owner, sudoers.uid, sudoers.group, sudoers.gid, sudoers.origin, sudoers.package],
      ['0440', 'root', 0, 'root', 0, 'package-unmodified', 'sudo'],
    )
  })

  it('never puts a planted private key, a pasted PEM key or SSH host keys into any twin document', async () => {
    const { documents } = await provider.collect({ ctx })
    const manifest = manifestOf(documents)
    const bytes = Buffer.concat(documents.map((d) => Buffer.from(d.content)))
    for (const key of [plantedKey, pastedKey, await readFile(join(root, 'etc/ssh/ssh_host_ed25519_key'), 'utf8')]) {
      for (const line of key.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'))) {
        assert.equal(bytes.includes(line), false, 'a line of a private key is in the twin')
      }
    }
    assert.equal(bytes.includes('PRIVATE KEY-----'), false)
    for (const path of ['/etc/ssl/private/planted.key', '/etc/app/app.conf', '/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/ssh_host_rsa_key', '/etc/shadow', '/etc/gshadow']) {
      const entry = entryOf(manifest, path)
      assert.equal(entry.secret, true, `${path} is marked secret`)
      assert.equal(entry.sha256, undefined)
      assert.equal(documents.some((d) => d.path === `filesystem${path}`), false, `${path} is not mirrored`)
    }
  })

  it('marks a locally modified conffile as modified from the package default', async () => {
    const manifest = manifestOf((await provider.collect({ ctx })).documents)
    const adduser = entryOf(manifest, '/etc/adduser.conf')
    assert.deepEqual([adduser.origin, adduser.package], ['package-modified', 'adduser'])
    assert.equal(entryOf(manifest, '/etc/deluser.conf').origin, 'package-unmodified')
    assert.equal(entryOf(manifest, '/etc/app/app.conf').origin, 'local')
  })

  it('applies a twin changed in content, mode, owner and a symlink; then a collect and diff are empty and a second apply changes nothing', async () => {
    const { documents } = await provider.collect({ ctx })
    const twin = new MemoryTwin(documents)
    const manifest = manifestOf(documents)
    entryOf(manifest, '/etc/issue').mode = '0600'
    // deploy is uid 1500 in the target only: the name must resolve through the target's passwd.
    Object.assign(entryOf(manifest, '/etc/motd'), { owner: 'deploy', uid: 1500, group: 'deploy', gid: 1500 })
    entryOf(manifest, '/etc/localtime').target = '/usr/share/zoneinfo/Europe/Berlin'
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    twin.set('filesystem/etc/issue.net', 'Authorised use only\n')

    const changes = await plan(twin)
    assert.deepEqual(changes.map((c) => c.id).sort(), [
      'files:chmod:/etc/issue',
      'files:chown:/etc/motd',
      'files:replace:/etc/issue.net',
      'files:symlink-retarget:/etc/localtime',
    ])
    const first = await provider.apply({ changes, ctx })
    assert.deepEqual(first.results.map((r) => [r.id, r.status]), changes.map((c) => [c.id, 'applied']))

    assert.equal(await readFile(join(root, 'etc/issue.net'), 'utf8'), 'Authorised use only\n')
    assert.equal((await lstat(join(root, 'etc/issue'))).mode & 0o7777, 0o600)
    const motd = await lstat(join(root, 'etc/motd'))
    assert.deepEqual([motd.uid, motd.gid], [1500, 1500])
    assert.equal(await readlink(join(root, 'etc/localtime')), '/usr/share/zoneinfo/Europe/Berlin')

    assert.deepEqual(await plan(twin), [], 'nothing left to do')
    const second = await provider.apply({ changes, ctx })
    assert.deepEqual(second.results.map((r) => r.status), changes.map(() => 'unchanged'))
  })

  it('refuses a broken sudoers file from the twin with visudo inside the target, leaving the live one untouched', async () => {
    const live = await readFile(join(root, 'etc/sudoers'))
    const twin = new MemoryTwin((await provider.collect({ ctx })).documents)
    twin.set('filesystem/etc/sudoers', live.toString() + 'deploy ALL=(ALL NOPASSWD: ALL\n')
    const changes = await plan(twin)
    assert.deepEqual(changes.map((c) => [c.id, c.risk]), [['files:replace:/etc/sudoers', 'high']])
    const { results } = await provider.apply({ changes, ctx })
    assert.equal(results[0]?.status, 'failed')
    assert.match(results[0]?.message ?? '', /visudo rejects/)
    assert.match(results[0]?.outputTail ?? '', /syntax error/)
    assert.deepEqual(await readFile(join(root, 'etc/sudoers')), live)
    const st = await lstat(join(root, 'etc/sudoers'))
    assert.equal(st.mode & 0o7777, 0o440)

    // A valid drop-in goes through the same check and is written.
    twin.set('filesystem/etc/sudoers', live)
    twin.set('filesystem/etc/sudoers.d/deploy', 'deploy ALL=(ALL) NOPASSWD: /usr/bin/systemctl\n')
    const manifest = JSON.parse((await twin.readText('system/files/manifest.json')) ?? '') as Manifest
    manifest.entries.push({ path: '/etc/sudoers.d/deploy', type: 'file', mode: '0440', owner: 'root', uid: 0, group: 'root', gid: 0, content: 'mirrored' })
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    const dropIn = await plan(twin)
    assert.deepEqual(dropIn.map((c) => c.id), ['files:create:/etc/sudoers.d/deploy'])
    const applied = await provider.apply({ changes: dropIn, ctx })
    assert.equal(applied.results[0]?.status, 'applied', applied.results[0]?.message)
    assert.equal((await lstat(join(root, 'etc/sudoers.d/deploy'))).mode & 0o7777, 0o440)
  })

  it('refuses a broken sshd_config with sshd -t inside the target', async () => {
    const live = await readFile(join(root, 'etc/ssh/sshd_config'))
    const twin = new MemoryTwin((await provider.collect({ ctx })).documents)
    twin.set('filesystem/etc/ssh/sshd_config', live.toString() + 'PermitRootLogin sometimes-maybe\n')
    const { results } = await provider.apply({ changes: await plan(twin), ctx })
    assert.equal(results[0]?.status, 'failed')
    assert.match(results[0]?.message ?? '', /sshd rejects/)
    assert.match(results[0]?.outputTail ?? '', /\/etc\/ssh\/sshd_config line \d+: unsupported option "sometimes-maybe"/)
    assert.deepEqual(await readFile(join(root, 'etc/ssh/sshd_config')), live)
  })

  it('refuses to write through a symlink that leads outside the root', async () => {
    await chrootOk(root, 'ln', ['-s', '../../../../../../../../..', '/etc/escape'])
    const change: Change = {
      id: 'files:create:/etc/escape/tmp/twinsync-escaped',
      provider: 'files',
      category: 'files',
      operation: 'create',
      resource: '/etc/escape/tmp/twinsync-escaped',
      summary: 'escape',
      risk: 'low',
      data: { action: 'write', path: '/etc/escape/tmp/twinsync-escaped', text: 'x\n', sha256: '', mode: 0o644, uid: 0, gid: 0 },
    }
    const { results } = await provider.apply({ changes: [change], ctx })
    assert.equal(results[0]?.status, 'failed')
    // Refused before the port is asked (a symlinked folder, session 11); the port would refuse it too (PATH_OUTSIDE_ROOT).
    assert.match(results[0]?.message ?? '', /\/etc\/escape is a symlink on the machine|PATH_OUTSIDE_ROOT/)
    assert.equal(existsSync('/tmp/twinsync-escaped'), false)
  })

  it('collects an unchanged /etc a second time without reading every file again', async () => {
    // Files touched by the tests above are "racily clean" for a moment; let that pass.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const fresh = createTestContext(root)
    const { ctx: counted, reads, paths } = countingReads(fresh)
    const firstStartedAt = Date.now()
    let started = performance.now()
    const first = await provider.collect({ ctx: counted })
    const firstMs = performance.now() - started
    const firstReads = reads()
    started = performance.now()
    const second = await provider.collect({ ctx: counted })
    const secondMs = performance.now() - started
    const secondReads = reads() - firstReads
    console.log(
      `      files collect of the Debian root: ${first.state.entries.length} entries; ` +
        `first ${firstMs.toFixed(0)} ms, ${firstReads} reads; second ${secondMs.toFixed(0)} ms, ${secondReads} reads`,
    )
    assert.deepEqual(
      second.documents.map((d) => [d.path, String(d.content)]),
      first.documents.map((d) => [d.path, String(d.content)]),
    )
    // A file changed just before the first collect is racily clean (isRacy): read again, by
    // design. CI, session 38, at a load of 12: 3 reads instead of 2, which file not said then.
    const again = paths.slice(firstReads)
    const racy = new Set<string>()
    for (const path of again) {
      const stat = await lstat(join(root, path)).catch(() => undefined)
      if (stat !== undefined && isRacy(stat, firstStartedAt)) racy.add(path)
    }
    assert.ok(again.length - racy.size <= 2, `the second collect reads only the account tables and files changed just before the first, not ${again.join(', ')} (racily clean: ${[...racy].join(', ') || 'none'})`)
    assert.ok(firstReads > 100)
  })

  it('conforms to the provider contract on the real root', async () => {
    assert.deepEqual(await checkConformance(provider, createTestContext(root)), [])
  })

  /** Load the twin, collect the machine, diff: what a plan would hold. */
  async function plan(twin: MemoryTwin): Promise<Change[]> {
    const desired = await provider.load({ ctx, twin })
    assert.ok(desired.state, 'the twin holds a files state')
    const actual = await provider.collect({ ctx })
    return provider.diff({ desired: desired.state, actual: actual.state, ctx }).changes
  }
})
