import { strict as assert } from 'node:assert'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { json } from '../support/cli.js'
import { PlantedRoot } from '../support/planted-root.js'

interface Diagnostic {
  code: string
  summary: string
  path?: string
  change?: string
}

/**
 * Session 24 (session 23's red team): a secret in a file's or folder's name, or in a symlink's
 * target. The core's guard redacted the files manifest (`/etc/myapp/<redacted>`), but the mirrored
 * document was committed under the token's name and the diary line named it; `status` showed the
 * folder as drift for ever and `plan` planned its delete. Now the files provider holds such a path
 * out, with everything below it, on both sides (FILES_NAME_SECRET), and a twin that asks for one
 * has it left out of the plan (FILES_NAME_SECRET_NOT_PLANNED).
 */
describe('a secret in a file or folder name, or a symlink target, never reaches a commit and is never planned', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  let snapshots: Diagnostic[][]
  const github = `ghp_${fakeChars('s24-names-gh', 36)}`
  const aws = `AKIA${fakeChars('s24-names-aws', 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`
  const linked = `AKIA${fakeChars('s24-names-link', 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`
  const early = `ghp_${fakeChars('s24-names-early', 36)}`
  const autostart = `ghp_${fakeChars('s24-names-autostart', 36)}`
  const snapshot = async (...args: string[]): Promise<Diagnostic[]> => {
    const r = await root.twinsync(['snapshot', '--json', ...args])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    return json<{ diagnostics?: Diagnostic[] }>(r).diagnostics ?? []
  }

  before(async () => {
    root = await PlantedRoot.create({ image: 'base', include: ['/etc', '/opt'] })
    for (const [kind, value] of [['file name', github], ['folder name', aws], ['symlink target', linked], ['file name in the first snapshot', early], ['autostart entry name', autostart]]) root.secret(kind as string, value as string)
    await root.plant('/etc/myapp/app.conf', 'listen = 8080\n')
    // One in the first snapshot (no stat cache yet), the others in a folder listed again later (a new name).
    await root.plant(`/etc/other/${early}`, 'nothing secret inside\n')
    snapshots = [await snapshot('--init')]
    await root.plant(`/etc/myapp/${github}`, 'nothing secret inside\n')
    await root.plant(`/etc/myapp/key-${aws}/app.conf`, 'listen = 8081\n')
    await mkdir(join(root.rootfs.dir, 'opt', linked), { recursive: true })
    await symlink(`/opt/${linked}`, join(root.rootfs.dir, 'etc/myapp/link'))
    // Another provider's mirrored document named with one (autostart mirrors its entries under filesystem/).
    await root.plant(`/etc/xdg/autostart/${autostart}.desktop`, '[Desktop Entry]\nType=Application\nName=Agent\nExec=/bin/true\n')
    snapshots.push(await snapshot())
    // Unchanged: the stat cache's listings say what was held out.
    snapshots.push(await snapshot())
  })
  after(async () => {
    await root?.cleanup()
  })

  it('no object of the twin holds the tokens: no tree name, no document, no commit subject', async () => {
    await root.assertNoneLeaked()
    const log = (await runOk(['git', '-C', root.cli.twinDir, 'log', '-p', '--all', '--format=%s%n%b'])).stdout
    assert.deepEqual(root.leaked(log), [])
    const names = (await runOk(['git', '-C', root.cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD'])).stdout
    assert.ok(names.includes('filesystem/etc/myapp/app.conf'), 'the folder itself is mirrored')
    assert.deepEqual(names.split('\n').filter((n) => n.startsWith('filesystem/etc/myapp/') || n.startsWith('filesystem/etc/other/')), ['filesystem/etc/myapp/app.conf'])
    const manifest = (await runOk(['git', '-C', root.cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout
    assert.ok(!manifest.includes('<redacted>'), 'nothing for the guard to redact: the names were held out before')
    assert.ok(!manifest.includes('/etc/myapp/link'), 'the link to a secret name is held out')
  })

  it('each snapshot says what it held out: the folder and the rule, never the name', () => {
    const said = (list: Diagnostic[]) => list.filter((d) => d.code === 'FILES_NAME_SECRET').map((d) => `${d.path ?? ''} ${d.summary}`)
    for (const [i, list] of snapshots.entries()) {
      const lines = said(list)
      assert.ok(lines.some((l) => l.startsWith('/etc/other ') && /github/.test(l)), `snapshot ${i}: ${lines.join('\n')}`)
      if (i === 0) continue
      assert.ok(lines.some((l) => l.startsWith('/etc/myapp ') && /github/.test(l)), `snapshot ${i}: ${lines.join('\n')}`)
      assert.ok(lines.some((l) => l.startsWith('/etc/myapp ') && /aws/.test(l) && /name/.test(l)), `snapshot ${i}: ${lines.join('\n')}`)
      assert.ok(lines.some((l) => l.startsWith('/etc/myapp ') && /aws/.test(l) && /symlink/.test(l)), `snapshot ${i}: ${lines.join('\n')}`)
    }
    assert.deepEqual(root.leaked(JSON.stringify(snapshots)), [])
  })

  it('an autostart entry named with a secret is held out by its provider, named by its folder and rule', () => {
    for (const list of snapshots.slice(1)) {
      const said = list.filter((d) => d.code === 'AUTOSTART_NAME_SECRET')
      assert.deepEqual(
        said.map((d) => [d.path, d.summary]),
        [['/etc/xdg/autostart', 'An autostart entry in /etc/xdg/autostart has a name that holds a secret (github); the twin leaves it out']],
      )
    }
  })

  it('status shows no drift for them and plan plans nothing for them', async () => {
    const status = await root.twinsync(['status', '--json'])
    assert.equal(status.code, 0, status.stdout + status.stderr)
    assert.equal(json<{ drift: boolean }>(status).drift, false, status.stdout)
    const plan = await root.twinsync(['plan', '--json'])
    assert.deepEqual(json<{ changes: unknown[] }>(plan).changes, [], plan.stdout)
    await root.assertNoneLeaked()
  })

  it('a twin that asks for a path with a secret in its name has it left out of the plan, named by its folder', async () => {
    const forged = root.secret('forged file name', `ghp_${fakeChars('s24-names-forged', 36)}`)
    const forgedLink = root.secret('forged symlink target', `AKIA${fakeChars('s24-names-forged-link', 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`)
    const twin = root.cli.twinDir
    const path = join(twin, 'system/files/manifest.json')
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { entries: Array<Record<string, unknown>> }
    const owned = { owner: 'root', uid: 0, group: 'root', gid: 0 }
    const text = 'forged\n'
    manifest.entries.push({ path: `/etc/myapp/${forged}`, type: 'file', mode: '0644', ...owned, size: text.length, content: 'mirrored' })
    manifest.entries.push({ path: '/etc/myapp/forged-link', type: 'symlink', mode: '0777', ...owned, target: `/opt/${forgedLink}` })
    manifest.entries.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1))
    await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`)
    await writeFile(join(twin, 'filesystem/etc/myapp', forged), text)
    const plan = await root.twinsync(['plan', '--json'])
    const planned = json<{ changes: Array<{ id: string }>; diagnostics: Diagnostic[] }>(plan)
    assert.deepEqual(planned.changes, [], plan.stdout)
    const leftOut = planned.diagnostics.filter((d) => d.code === 'FILES_NAME_SECRET_NOT_PLANNED')
    assert.equal(leftOut.length, 2, plan.stdout)
    assert.ok(leftOut.every((d) => d.path === '/etc/myapp' && d.change !== undefined), plan.stdout)
    assert.deepEqual(root.leaked(leftOut.map((d) => `${d.summary} ${d.path ?? ''}`).join('\n')), [], 'the warning names the folder, not the name')
    const text2 = await root.twinsync(['plan'])
    assert.match(text2.stdout, /FILES_NAME_SECRET_NOT_PLANNED/)
    assert.deepEqual(root.leaked(text2.stdout + text2.stderr), [], 'the plan as printed names no token')
    // Session 43: the diagnostic's `change` (the change's id) spelled the name in plan --json and a
    // saved plan, and status (text and --json) listed the item by that id and its summary.
    assert.deepEqual(root.leaked(plan.stdout + plan.stderr), [], 'plan --json names no token')
    assert.ok(leftOut.every((d) => /^files:\w+:<a name holding a secret, [12]>$/.test(d.change ?? '')), plan.stdout)
    const saved = join(root.cli.dir, 'secret-names-plan.json')
    assert.equal((await root.twinsync(['plan', '--out', saved])).code, 0)
    assert.deepEqual(root.leaked(await readFile(saved, 'utf8')), [], 'the saved plan names no token')
    const status = await root.twinsync(['status'])
    assert.match(status.stdout, /files:create:<a name holding a secret, 1> +the twin asks to create \/etc\/myapp\/<a name holding a secret> \(never applied: /)
    const statusJson = await root.twinsync(['status', '--json'])
    for (const r of [status, statusJson]) assert.deepEqual(root.leaked(r.stdout + r.stderr), [], 'status names no token')
    const discarded = await root.twinsync(['discard', 'files:create:<a name holding a secret, 1>'])
    assert.equal(discarded.code, 2, discarded.stdout + discarded.stderr)
    assert.match(discarded.stderr, /names no item by itself[\s\S]*`twinsync discard files/)
  })
})
