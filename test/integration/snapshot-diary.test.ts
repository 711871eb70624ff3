import { strict as assert } from 'node:assert'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

/**
 * Every snapshot's commit subject is the machine's diary line (issue 20 item 3), in the words of
 * the vocabulary (issue 23 item 1): real snapshots of a Debian root, read with plain git.
 */
describe('snapshot subjects read like the machine’s diary (Debian root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  const git = async (...args: string[]) => (await runOk(['git', '-C', cli.twinDir, ...args])).stdout
  const snapshot = async (...extra: string[]) => {
    const r = await twinsync('snapshot', ...extra)
    assert.equal(r.code, 0, r.stderr + r.stdout)
    return r.stdout
  }

  /** A package of our own, installed with the root's dpkg: no archive needed. */
  const installDemoPackage = async () => {
    const pkg = join(cli.dir, 'pkg')
    await mkdir(join(pkg, 'DEBIAN'), { recursive: true })
    await mkdir(join(pkg, 'usr/share/doc/twinsync-diary'), { recursive: true })
    await writeFile(join(pkg, 'usr/share/doc/twinsync-diary/README'), 'demo\n')
    await writeFile(join(pkg, 'DEBIAN/control'), 'Package: twinsync-diary\nVersion: 1.0\nArchitecture: all\nMaintainer: TwinSync tests <tests@localhost>\nDescription: a package for the diary test\n')
    await runOk(['dpkg-deb', '--root-owner-group', '--build', pkg, join(rootfs.dir, 'tmp/twinsync-diary.deb')])
    await chrootOk(rootfs.dir, 'dpkg', ['-i', '/tmp/twinsync-diary.deb'])
  }

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    await snapshot('--init')
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('the first snapshot counts what it recorded; the stamp is in the body and history knows it is a snapshot', async () => {
    const [subject, ...body] = (await git('log', '-1', '--format=%B')).trim().split('\n')
    assert.match(subject ?? '', /^first snapshot: \d+ files, .*fact files$/)
    assert.match(body.join('\n'), /^TwinSync snapshot \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m)
    const history = json<Array<{ kind: string; message: string }>>(await twinsync('history', '--json', '--limit', '1'))
    assert.equal(history[0]?.kind, 'snapshot')
    assert.equal(history[0]?.message, subject)
  })

  it('names files and packages per provider in observed words, and `git log --oneline` reads like a diary', async () => {
    await writeFile(join(rootfs.dir, 'etc/motd'), 'Maintenance on Friday\n')
    await chmod(join(rootfs.dir, 'etc/issue'), 0o600)
    await installDemoPackage()
    await chrootOk(rootfs.dir, 'apt-mark', ['hold', 'cron'])
    const out = await snapshot()
    const subject = (await git('log', '-1', '--format=%s')).trim()
    assert.equal(subject, 'files: issue mode changed, motd changed · apt: cron held, twinsync-diary installed')
    assert.match(out, new RegExp(`^Snapshot [0-9a-f]{12}  ${subject}$`, 'm'), 'the CLI says the same line')
    assert.match(out, /^ {2}files {5}2 files: \/etc\/issue mode changed, \/etc\/motd changed$/m)
    assert.match(out, /^ {2}packages {2}2 packages: cron held, twinsync-diary installed$/m)
    const oneline = await git('log', '--oneline', '-3')
    assert.match(oneline, /^[0-9a-f]+ files: issue mode changed, motd changed · apt: cron held, twinsync-diary installed\n[0-9a-f]+ first snapshot: /)

    // show and history use the same words and counts.
    const show = (await twinsync('show', 'HEAD')).stdout
    assert.match(show, /^packages: 2 packages\n {2}cron held\n {2}twinsync-diary installed$/m)
    assert.match(show, /^files: 2 files\n {2}\/etc\/issue mode changed\n {2}\/etc\/motd changed$/m)
    const listed = (await twinsync('history', '--limit', '1')).stdout
    assert.match(listed, /^ {4}2 files, 2 packages$/m)
  })

  it('status says what the machine did since, never what a plan would do', async () => {
    await chrootOk(rootfs.dir, 'dpkg', ['-r', 'twinsync-diary'])
    await chrootOk(rootfs.dir, 'apt-mark', ['unhold', 'cron'])
    await writeFile(join(rootfs.dir, 'etc/diary-new.conf'), 'new\n')
    const r = await twinsync('status')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^Drift: the machine moved since the last snapshot \(1 file, 2 packages\)\./m)
    assert.match(r.stdout, /apt:install:twinsync-diary {2}twinsync-diary removed from the machine, still in the twin$/m)
    assert.match(r.stdout, /apt:hold:cron {2}cron no longer held on the machine$/m)
    assert.match(r.stdout, /files:delete:\/etc\/diary-new\.conf {2}\/etc\/diary-new\.conf added on the machine, not in the twin$/m)
    assert.doesNotMatch(r.stdout, /\b(install|remove|delete|hold) (twinsync-diary|cron|\/etc)/i, 'no plan words')
    const status = json<{ changes: Array<{ id: string; summary: string; planned: string }> }>(await twinsync('status', '--json'))
    assert.equal(status.changes.find((c) => c.id === 'apt:install:twinsync-diary')?.planned, 'install twinsync-diary (the candidate version)')

    const out = await snapshot()
    assert.match(out, /^Snapshot [0-9a-f]{12} {2}files: diary-new\.conf added · apt: cron no longer held, twinsync-diary removed$/m)
  })

  it('bounds a long subject and says how many more', async () => {
    for (let i = 0; i < 40; i++) await writeFile(join(rootfs.dir, `etc/diary-${String(i).padStart(2, '0')}.conf`), `${i}\n`)
    await snapshot()
    const subject = (await git('log', '-1', '--format=%s')).trim()
    assert.ok(subject.length <= 120, subject)
    assert.match(subject, /^files: diary-00\.conf added, diary-01\.conf added, .* \+\d+ more$/)
    const more = Number(/\+(\d+) more$/.exec(subject)?.[1])
    const named = subject.split(', ').length
    assert.equal(named + more, 40, `40 files: ${named} named, ${more} more`)
  })

  it('a labelled snapshot: the label is in the stamp of the body and a git tag', async () => {
    await writeFile(join(rootfs.dir, 'etc/motd'), 'Labelled\n')
    await snapshot('--label', 'diary-label')
    assert.equal((await git('log', '-1', '--format=%s')).trim(), 'files: motd changed')
    assert.match(await git('log', '-1', '--format=%b'), /^TwinSync snapshot \S+Z \[diary-label\]$/m)
    assert.equal((await run(['git', '-C', cli.twinDir, 'rev-parse', 'diary-label^{commit}'])).stdout.trim(), (await git('rev-parse', 'HEAD')).trim())
  })

  it('after a person\'s commit in the twin: the diary says what the machine changed since the last snapshot, not the commit undone', async () => {
    // A person asks for a new motd and commits it with plain git; the machine changes issue.net.
    await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'Asked for by a person\n')
    await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'a person asks for a new motd')
    await writeFile(join(rootfs.dir, 'etc/issue.net'), 'Changed on the machine\n')
    const out = await snapshot()
    const subject = (await git('log', '-1', '--format=%s')).trim()
    assert.equal(subject, 'files: issue.net changed', 'the motd is the person\'s ask, still pending: the machine did not change it')
    assert.match(out, /^ {2}files {5}1 file: \/etc\/issue\.net changed$/m)
    assert.doesNotMatch(out, /motd changed/)

    // Nothing changed on the machine since: no diary line of a machine change.
    await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'Asked for again\n')
    await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'a person asks again')
    const quiet = await snapshot()
    assert.doesNotMatch(quiet, /motd changed/, quiet)
    assert.doesNotMatch((await git('log', '-1', '--format=%s')).trim(), /motd changed/)
  })
})
