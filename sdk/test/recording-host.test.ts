import { strict as assert } from 'node:assert'
import { lchown, mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError, LocalHost, RecordingHost, type HostPort } from '../src/index.js'

describe('RecordingHost (dry run)', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-dry-'))
    await mkdir(join(root, 'etc'))
    await writeFile(join(root, 'etc/motd'), 'real\n')
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  it('reads the real target, records every change and makes none', async () => {
    const host = new RecordingHost(new LocalHost(root))
    assert.equal(host.root, root)
    assert.equal(await host.readTextIfExists('/etc/motd'), 'real\n')
    await host.writeFileAtomic('/etc/motd', 'dry\n', { mode: 0o600 })
    await host.mkdir('/etc/new', { mode: 0o700 })
    await host.symlink('/etc/motd', '/etc/motd.link')
    await host.chmod('/etc/motd', 0o640)
    await host.chown('/etc/motd', 1, 2)
    await host.remove('/etc/old')
    const r = await host.exec('systemctl', ['enable', 'x.service'], { inTarget: true })
    assert.equal(r.exitCode, 0)
    assert.deepEqual(host.actions.map((a) => a.kind), ['write', 'mkdir', 'symlink', 'chmod', 'chown', 'remove', 'exec'])
    assert.deepEqual(host.commands(), [['systemctl', ['enable', 'x.service']]])
    assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'real\n', 'the target is untouched')
    await assert.rejects(stat(join(root, 'etc/new')))
  })

  it('reads back what it "wrote" or "removed", so a provider that checks its write sees it', async () => {
    const host = new RecordingHost(new LocalHost(root))
    await host.writeFileAtomic('/etc/motd', 'dry\n')
    assert.equal(await host.readTextIfExists('/etc/motd'), 'dry\n')
    assert.equal((await host.stat('/etc/motd'))?.size, 4)
    await host.remove('/etc/motd')
    assert.equal(await host.readTextIfExists('/etc/motd'), undefined)
    assert.equal(await host.lstat('/etc/motd'), undefined)
  })

  it('records an rmdir and answers it as the target would after the run: not empty while anything is left, then removed, then gone', async () => {
    await mkdir(join(root, 'etc/site'))
    await writeFile(join(root, 'etc/site/a.conf'), 'a\n')
    const host = new RecordingHost(new LocalHost(root))
    assert.equal(await host.rmdir('/etc/site'), 'not-empty')
    await host.remove('/etc/site/a.conf')
    await host.writeFileAtomic('/etc/site/b.conf', 'b\n')
    assert.equal(await host.rmdir('/etc/site'), 'not-empty', 'a file written in this run is in it')
    await host.remove('/etc/site/b.conf')
    assert.equal(await host.rmdir('/etc/site'), 'removed')
    assert.equal(await host.lstat('/etc/site'), undefined)
    assert.equal(await host.rmdir('/etc/site'), 'gone')
    await assert.rejects(host.rmdir('/etc/motd'), /ENOTDIR/)
    assert.deepEqual(host.actions.filter((a) => a.kind === 'rmdir').length, 5)
    assert.ok((await stat(join(root, 'etc/site/a.conf'))).isFile(), 'the target is untouched')
    await assert.rejects(new RecordingHost(new LocalHost(root), { refuse: 'Planning only reads' }).rmdir('/etc/site'), /Planning only reads: tried to rmdir \/etc\/site/)
  })

  it('runs reading programs on the target, or answers them for a test; says what recorded programs print', async () => {
    const real = new RecordingHost(new LocalHost(root))
    const listed = await real.query('ls', ['/'], {})
    assert.equal(listed.exitCode, 0)
    assert.deepEqual(real.queries, [['ls', ['/']]])
    assert.deepEqual(real.actions, [], 'a query is not a change')
    const faked = new RecordingHost(new LocalHost(root), {
      query: (command) => ({ stdout: `${command} says hi\n` }),
      exec: (command) => (command === 'crontab' ? { exitCode: 1, stderr: 'bad crontab\n' } : undefined),
    })
    assert.equal((await faked.query('apt-cache', ['madison', 'x'])).stdout, 'apt-cache says hi\n')
    assert.deepEqual(await faked.exec('crontab', ['-u', 'ann', '-'], { input: 'x\n', inTarget: true }), { command: 'crontab', args: ['-u', 'ann', '-'], exitCode: 1, stdout: '', stderr: 'bad crontab\n', timedOut: false })
    assert.deepEqual(faked.actions, [{ kind: 'exec', command: 'crontab', args: ['-u', 'ann', '-'], inTarget: true, input: 'x\n' }])
  })

  it('looks programs up in the target, or answers `which` for a test (a tool present or missing)', async () => {
    const real = new RecordingHost(new LocalHost(root))
    assert.equal(await real.which('no-such-tool-here'), undefined)
    const faked = new RecordingHost(new LocalHost(root), { which: (tool, options) => (tool === 'getcap' && options.inTarget !== true ? '/usr/sbin/getcap' : undefined) })
    assert.equal(await faked.which('getcap'), '/usr/sbin/getcap')
    assert.equal(await faked.which('getcap', { inTarget: true }), undefined)
    assert.equal(await faked.which('sh'), undefined, 'the answer is the test\'s, not the target\'s')
  })

  it('refuses paths the real port would refuse', async () => {
    const host = new RecordingHost(new LocalHost(root))
    await assert.rejects(host.writeFileAtomic('etc/relative', 'x'), { code: 'PATH_INVALID' })
    assert.deepEqual(host.actions, [])
  })

  it('refuses what the real port refuses, by the same rule: every change through a symlinked folder a user could have placed (PATH_THROUGH_SYMLINK), nothing recorded; root\'s own folder links followed by both', async () => {
    await mkdir(join(root, 'root/.ssh'), { recursive: true })
    await writeFile(join(root, 'root/.ssh/authorized_keys'), 'mine\n')
    // A user's link (root's folder or not: the link is hers, she can swap it).
    await symlink('/root/.ssh', join(root, 'etc/keys'))
    await lchown(join(root, 'etc/keys'), 1000, 1000)
    await mkdir(join(root, 'usr/lib/app'), { recursive: true })
    await symlink('usr/lib', join(root, 'lib'))
    // Root's own link, in folders only root can write (/home -> /srv/home): followed.
    await mkdir(join(root, 'srv/home/ann'), { recursive: true })
    await symlink('/srv/home', join(root, 'home'))
    const calls: Array<[string, (h: HostPort) => Promise<unknown>]> = [
      ['write', (h) => h.writeFileAtomic('/etc/keys/authorized_keys', 'attacker\n')],
      ['mkdir', (h) => h.mkdir('/etc/keys/new')],
      ['symlink', (h) => h.symlink('/x', '/etc/keys/new')],
      ['chmod', (h) => h.chmod('/etc/keys/authorized_keys', 0o666)],
      ['chown', (h) => h.chown('/etc/keys/authorized_keys', 1000, 1000)],
      ['attributes', (h) => h.setAttributes('/etc/keys/authorized_keys', { mode: 0o666 })],
      ['remove', (h) => h.remove('/etc/keys/authorized_keys')],
      ['unlink', (h) => h.unlink('/etc/keys/authorized_keys')],
      ['rmdir', (h) => h.rmdir('/etc/keys/sub')],
      ['exec writesIn', (h) => h.exec('true', [], { writesIn: ['/etc/keys'] })],
      // A link this very run makes is one too: the real run would have made it by then.
      ['write below a link made in this run', async (h) => {
        await h.symlink('/root/.ssh', '/etc/made')
        return h.writeFileAtomic('/etc/made/authorized_keys', 'attacker\n')
      }],
      // chmod(2) would follow a symlink in the final name.
      ['chmod of a symlink', (h) => h.chmod('/etc/keys', 0o777)],
      // Merged /usr is followed, as the real port follows it; so is root's /home link.
      ['write through merged /usr', (h) => h.writeFileAtomic('/lib/app/ok.conf', 'ok\n')],
      ["write through root's /home link", (h) => h.writeFileAtomic('/home/ann/notes', 'ok\n')],
    ]
    const outcomes = async (host: HostPort) => {
      const out: string[] = []
      for (const [what, call] of calls) out.push(`${what}: ${await call(host).then(() => 'done', (e: unknown) => (isTwinSyncError(e) ? e.code : String(e)))}`)
      return out
    }
    const dry = new RecordingHost(new LocalHost(root))
    const dryOutcomes = await outcomes(dry)
    assert.deepEqual(dry.actions.map((a) => `${a.kind} ${a.kind === 'exec' ? a.command : a.path}`), ['symlink /etc/made', 'write /lib/app/ok.conf', 'write /home/ann/notes'], 'a refused change is not recorded')
    assert.equal(await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8'), 'mine\n')
    assert.deepEqual(dryOutcomes, await outcomes(new LocalHost(root)))
    assert.deepEqual(dryOutcomes.filter((o) => !o.endsWith(': PATH_THROUGH_SYMLINK')), ['write through merged /usr: done', "write through root's /home link: done"])
    assert.equal(await readFile(join(root, 'srv/home/ann/notes'), 'utf8'), 'ok\n')
    assert.equal(await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8'), 'mine\n')
  })

  it('refuses changes when told to (planning only reads), after recording them', async () => {
    const host = new RecordingHost(new LocalHost(root), { refuse: 'Planning only reads' })
    await assert.rejects(host.writeFileAtomic('/etc/motd', 'x'), { code: 'HOST_READ_ONLY', message: 'Planning only reads: tried to write /etc/motd' })
    await assert.rejects(host.exec('touch', ['/x']), { code: 'HOST_READ_ONLY', message: 'Planning only reads: tried to run touch /x' })
    assert.equal(await host.readTextIfExists('/etc/motd'), 'real\n')
    assert.deepEqual(host.actions.map((a) => a.kind), ['write', 'exec'])
  })
})
