import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, run, runOk } from '../bed/index.js'
import { json, useCliRoot } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

const VIRTUAL = '/etc/postfix/virtual'

/**
 * postfix reads its indexed lookup tables compiled (virtual.db, aliases.db), never the text: a
 * changed /etc/postfix/virtual did nothing until someone ran postmap (session 19: the twin's
 * change applied, `postmap -q` still answered the old value). Apply builds the table after the
 * write and before `postfix check`, and a rejection puts both the text and the compiled table
 * back. Real postfix, chrooted into the test bed's server root.
 */
describe('postfix lookup tables: built with postmap or postalias before the check, put back with the text (server root, chroot)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({
    image: 'server',
    prepare: async (dir) => {
      const main = await readFile(join(dir, 'etc/postfix/main.cf'), 'utf8')
      await writeFile(join(dir, 'etc/postfix/main.cf'), `${main}virtual_alias_maps = hash:${VIRTUAL}\n`)
      await writeFile(join(dir, VIRTUAL), 'a@server.test root\n')
      await runOk(['chroot', dir, 'postmap', `hash:${VIRTUAL}`])
    },
  })
  const query = async (tool: string, key: string, table: string) => (await run(['chroot', root().rootfs.dir, tool, '-q', key, table])).stdout.trim()
  const sha = async (path: string) => createHash('sha256').update(await readFile(join(root().rootfs.dir, path))).digest('hex')
  const mtime = async (path: string) => (await stat(join(root().rootfs.dir, path))).mtimeMs

  it('the plan says postmap runs; apply builds virtual.db and aliases.db: postfix answers the new values', async () => {
    await writeTwinFile(root().twinDir, `filesystem${VIRTUAL}`, 'a@server.test postmaster\nb@server.test root\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/aliases', `${await root().live('/etc/aliases')}twin: root\n`)
    const plan = json<{ diagnostics: Array<{ code: string; summary: string }> }>(await root().twinsync('plan', '--json'))
    const notes = plan.diagnostics.filter((d) => d.code === 'CONFIG_COMPILED').map((d) => d.summary)
    assert.ok(notes.some((n) => n.includes(`apply runs \`postmap hash:${VIRTUAL}\` after writing it, before \`postfix check\``)), JSON.stringify(plan.diagnostics))
    assert.ok(notes.some((n) => n.includes('apply runs `postalias hash:/etc/aliases`')), JSON.stringify(plan.diagnostics))

    const { code, steps, out } = await root().apply()
    assert.equal(code, 0, out)
    assert.equal(steps.get(`files:replace:${VIRTUAL}`)?.message, `built: \`postalias hash:/etc/aliases; postmap hash:${VIRTUAL}\`; checked: \`postfix check\` passed`, out)
    assert.equal(await query('postmap', 'a@server.test', `hash:${VIRTUAL}`), 'postmaster')
    assert.equal(await query('postmap', 'b@server.test', `hash:${VIRTUAL}`), 'root')
    assert.equal(await query('postalias', 'twin', 'hash:/etc/aliases'), 'root')
    // The compiled tables are the machine's to build: nothing more to plan.
    assert.deepEqual((await root().planIds()).filter((id) => id.includes('postfix') || id.includes('aliases')), [])
  })

  it('a rejected check puts back the text and its compiled table, times included', async () => {
    const kept = new Map<string, [string, number]>()
    for (const path of [VIRTUAL, `${VIRTUAL}.db`, '/etc/postfix/master.cf']) kept.set(path, [await sha(path), await mtime(path)])
    await writeTwinFile(root().twinDir, `filesystem${VIRTUAL}`, 'a@server.test nobody\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/postfix/master.cf', `${await root().live('/etc/postfix/master.cf')}broken line\n`)
    const { code, steps, out } = await root().apply()
    assert.equal(code, 1, out)
    const step = steps.get(`files:replace:${VIRTUAL}`)
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.message ?? '', /`postfix check` rejects the new postfix configuration; the previous files are back/)
    for (const [path, [hash, time]] of kept) {
      assert.equal(await sha(path), hash, `${path} is as it was`)
      // Within a millisecond: a put-back time can come back a millisecond off (seen on main too).
      assert.ok(Math.abs((await mtime(path)) - time) < 2, `${path} has its time back: ${await mtime(path)}, was ${time}`)
    }
    assert.equal(await query('postmap', 'a@server.test', `hash:${VIRTUAL}`), 'postmaster')
  })
})
