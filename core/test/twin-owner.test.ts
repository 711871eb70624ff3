import { strict as assert } from 'node:assert'
import { lstatSync } from 'node:fs'
import { chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkTwinOwner, handBack } from '../src/twin/twin-owner.js'

/** Root in a twin another user owns (session 21; the CLI's case is test/integration/non-root.test.ts). */
describe('twin-owner: root in another user\'s twin', () => {
  let base: string
  let outside: string
  before(function () {
    if (process.geteuid?.() !== 0) this.skip()
  })
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'twinsync-owner-'))
    outside = await mkdtemp(join(tmpdir(), 'twinsync-owner-out-'))
  })
  afterEach(async () => {
    await rm(base, { recursive: true, force: true })
    await rm(outside, { recursive: true, force: true })
  })

  it('is refused unless sudo says the owner asked; root\'s own twin and a user\'s run are not looked at', async () => {
    assert.equal(checkTwinOwner(base, {}), undefined, 'root\'s own twin')
    await chown(base, 1000, 1001)
    assert.throws(() => checkTwinOwner(base, {}), (e: { code?: string; exitCode?: number; nextStep?: string }) => e.code === 'TWIN_NOT_OWNED' && e.exitCode === 2 && /sudo twinsync/.test(e.nextStep ?? ''))
    assert.throws(() => checkTwinOwner(base, { SUDO_UID: '1002' }), /TWIN_NOT_OWNED|uid 1000's/)
    assert.deepEqual(checkTwinOwner(base, { SUDO_UID: '1000' }), { uid: 1000, gid: 1001 })
    assert.equal(checkTwinOwner(join(base, 'missing'), {}), undefined)
  })

  it('hands root\'s entries to the owner, links themselves and never what they point at', async () => {
    await mkdir(join(base, '.git/objects/ab'), { recursive: true })
    await writeFile(join(base, '.git/objects/ab/cd'), 'x')
    await writeFile(join(outside, 'target'), 'root\'s')
    await symlink(join(outside, 'target'), join(base, 'link'))
    await symlink(outside, join(base, 'folder-link'))
    await writeFile(join(base, 'other-users'), '')
    await chown(join(base, 'other-users'), 1002, 1002)
    handBack(base, { uid: 1000, gid: 1001 })
    for (const p of ['', '.git', '.git/objects/ab/cd', 'link', 'folder-link']) assert.equal(`${p} ${lstatSync(join(base, p)).uid}:${lstatSync(join(base, p)).gid}`, `${p} 1000:1001`)
    assert.equal(lstatSync(join(base, 'other-users')).uid, 1002, 'a third user\'s entry is left as it is')
    assert.equal(lstatSync(join(outside, 'target')).uid, 0, 'nothing through a link')
    assert.equal(lstatSync(outside).uid, 0)
  })

  it('enters no folder through a link, even one swapped in for a folder of the twin (the user owns the twin)', async () => {
    // A link where a folder of .git was, to a folder of root's outside: its files stay root's.
    await mkdir(join(base, '.git'), { recursive: true })
    await writeFile(join(outside, 'shadow'), 'root only\n')
    await symlink(outside, join(base, '.git/objects'))
    handBack(base, { uid: 1000, gid: 1000 })
    assert.equal(lstatSync(join(base, '.git/objects')).uid, 1000, 'the link itself')
    assert.equal(lstatSync(join(outside, 'shadow')).uid, 0)
    assert.equal(lstatSync(outside).uid, 0)
  })
})
