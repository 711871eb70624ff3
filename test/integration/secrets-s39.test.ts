import { strict as assert } from 'node:assert'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s39-${seed}`, n)
const words = (seed: string): string => `${v(`${seed}1`, 6)} ${v(`${seed}2`, 7)} ${v(`${seed}3`, 5)} ${v(`${seed}4`, 8)}`.toLowerCase()

/** Files that must be held out (`secret: true`) by the path rule: what a unit, its drop-in, its environment file name. */
const HELD = ['/srv/vault/repo.words', '/srv/offsite/keys/offsite']
/** The configs and scripts, mirrored. */
const MIRRORED = ['/etc/systemd/system/vault-sync.service', '/etc/systemd/system/vault-sync.service.d/override.conf', '/etc/systemd/system/offsite.service', '/etc/systemd/system/offsite.service.d/dir.conf']

/**
 * Session 39 on the server root, through the CLI: what session 38 left, each mirrored before
 * (the unit test's session 39 block fails on the old code): a unit whose folder only a drop-in
 * sets (`WorkingDirectory=/srv/vault`, the unit's `--password-file repo.words`); a relative value
 * of a variable its environment file sets (`PW=keys/offsite`, `--password-file ${PW}`).
 */
describe('secrets on the server root, session 39: a drop-in\'s folder, relative values of variables', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/opt', '/srv'] })
    const { secret, plant } = root
    // 1. The folder in a drop-in, the relative word in the unit.
    await plant('/srv/vault/repo.words', `${secret("a unit's relative --password-file, its folder in a drop-in", words('dropin'))}\n`)
    await plant('/etc/systemd/system/vault-sync.service', '[Unit]\nDescription=vault sync\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/restic -r /srv/restic --password-file repo.words check\n')
    await plant('/etc/systemd/system/vault-sync.service.d/override.conf', '[Service]\nWorkingDirectory=/srv/vault\n')
    // 2. A relative value of a variable the unit's environment file sets.
    await plant('/srv/offsite/keys/offsite', `${secret('a relative value of a variable an environment file sets', words('envvar'))}\n`)
    await plant('/etc/systemd/system/offsite.service', '[Service]\nType=oneshot\nEnvironmentFile=/etc/offsite/env\nExecStart=/usr/bin/restic --password-file ${PW} backup /srv\n')
    await plant('/etc/systemd/system/offsite.service.d/dir.conf', '[Service]\nWorkingDirectory=/srv/offsite\n')
    await plant('/etc/offsite/env', 'PW=keys/offsite\n')
    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { cli, planted } = root
    assert.equal(planted.length, HELD.length)
    const show = async (path: string) => (await runOk(['git', '-C', cli.twinDir, 'show', `HEAD:${path}`])).stdout
    const manifest = JSON.parse(await show('system/files/manifest.json')) as { entries: Array<{ path: string; secret?: boolean; secretReason?: string; content?: string }> }
    const entryOf = (path: string) => manifest.entries.find((e) => e.path === path)
    assert.deepEqual(HELD.filter((path) => entryOf(path)?.secret !== true), [], 'not held out')
    assert.deepEqual(HELD.filter((path) => entryOf(path)?.secretReason !== 'path rule').map((path) => `${path}: ${entryOf(path)?.secretReason}`), [], 'not held out by their path')
    for (const path of MIRRORED) assert.equal(entryOf(path)?.content, 'mirrored', path)
    await root.assertNoneLeaked()
  })
})
