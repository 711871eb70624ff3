import { strict as assert } from 'node:assert'
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { createTestContext, checkConformance } from '@twinsync/sdk/conformance'
import { LocalHost, MemoryTwin, RecordingHost, type Change, type ChangeResult, type Provider, type ProviderContext } from '@twinsync/sdk'
import { FilesProvider, type Manifest } from '../src/index.js'
import { debianLikeRoot, PEM_KEY, type TargetRoot } from './target-root.js'

const provider = new FilesProvider()

/** The twin of a collect, as a MemoryTwin a test can edit like a person edits the repository. */
async function twinOf(ctx: ProviderContext): Promise<{ twin: MemoryTwin; manifest: Manifest }> {
  const { documents } = await provider.collect({ ctx })
  const twin = new MemoryTwin(documents)
  const manifest = JSON.parse((await twin.readText('system/files/manifest.json')) ?? '') as Manifest
  return { twin, manifest }
}

async function plan(ctx: ProviderContext, twin: MemoryTwin): Promise<Change[]> {
  const desired = await provider.load({ ctx, twin })
  assert.ok(desired.state, 'the twin has a files state')
  const actual = await provider.collect({ ctx })
  return provider.diff({ desired: desired.state, actual: actual.state, ctx }).changes
}

/** The twin without the documents under a prefix: a folder a person removed from it. */
async function without(twin: MemoryTwin, prefix: string): Promise<MemoryTwin> {
  const out = new MemoryTwin()
  for (const path of await twin.list('')) if (!path.startsWith(prefix)) out.set(path, (await twin.read(path)) as Uint8Array)
  return out
}

function writeChange(path: string, text: string): Change {
  return {
    id: `files:replace:${path}`,
    provider: 'files',
    category: 'files',
    operation: 'replace',
    resource: path,
    summary: `Replace ${path}`,
    risk: 'high',
    data: { action: 'write', path, text, sha256: '', mode: 0o440, uid: 0, gid: 0 },
  }
}

describe('files provider: apply', () => {
  let root: TargetRoot
  beforeEach(() => {
    root = debianLikeRoot()
  })
  afterEach(() => {
    root.remove()
  })

  it('makes the live files match a twin changed in content, mode, owner, symlinks and files, then changes nothing', async () => {
    const ctx = createTestContext(root.dir)
    const { twin, manifest } = await twinOf(ctx)
    const edit = (path: string, change: (e: Manifest['entries'][number]) => void) => {
      const e = manifest.entries.find((x) => x.path === path)
      assert.ok(e, path)
      change(e)
    }
    twin.set('filesystem/etc/hosts', '127.0.0.1 localhost\n10.1.1.1 db\n')
    edit('/etc/app/owned', (e) => (e.mode = '0600'))
    edit('/etc/motd', (e) => Object.assign(e, { owner: 'alice', uid: 1000, group: 'webops', gid: 1234 }))
    edit('/etc/localtime', (e) => (e.target = '/usr/share/zoneinfo/Europe/Paris'))
    edit('/usr/local/bin/tool', (e) => (e.mode = '0755'))
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    twin.set('filesystem/etc/cron.d/backup', '0 3 * * * root /usr/local/bin/tool\n')
    // Removing a mirrored file from the twin asks for its deletion.
    const withoutAdduser = new MemoryTwin()
    for (const path of await twin.list('')) if (path !== 'filesystem/etc/adduser.conf') withoutAdduser.set(path, (await twin.read(path)) as Uint8Array)

    const changes = await plan(ctx, withoutAdduser)
    assert.deepEqual(changes.map((c) => c.id).sort(), [
      'files:chmod:/etc/app/owned',
      'files:chmod:/usr/local/bin/tool',
      'files:chown:/etc/motd',
      'files:create:/etc/cron.d/backup',
      'files:delete:/etc/adduser.conf',
      'files:mkdir:/etc/cron.d',
      'files:replace:/etc/hosts',
      'files:symlink-retarget:/etc/localtime',
    ])
    const seen: ChangeResult[] = []
    // The planner orders by `requires`; here, directories first is enough.
    const ordered = [...changes].sort((a, b) => (a.operation === 'mkdir' ? -1 : b.operation === 'mkdir' ? 1 : 0))
    const { results } = await provider.apply({ changes: ordered, ctx, onResult: (r) => seen.push(r) })
    assert.deepEqual(results.map((r) => [r.id, r.status, r.message]), ordered.map((c) => [c.id, 'applied', undefined]))
    assert.deepEqual(seen, results)

    assert.equal(readFileSync(root.path('/etc/hosts'), 'utf8'), '127.0.0.1 localhost\n10.1.1.1 db\n')
    assert.equal(lstatSync(root.path('/etc/app/owned')).mode & 0o7777, 0o600)
    assert.deepEqual([lstatSync(root.path('/etc/motd')).uid, lstatSync(root.path('/etc/motd')).gid], [1000, 1234])
    assert.equal(readlinkSync(root.path('/etc/localtime')), '/usr/share/zoneinfo/Europe/Paris')
    assert.equal(lstatSync(root.path('/usr/local/bin/tool')).mode & 0o7777, 0o755)
    assert.equal(readFileSync(root.path('/etc/cron.d/backup'), 'utf8'), '0 3 * * * root /usr/local/bin/tool\n')
    assert.equal(existsSync(root.path('/etc/adduser.conf')), false)

    assert.deepEqual(await plan(ctx, withoutAdduser), [], 'a second collect and diff find nothing to do')
    const again = await provider.apply({ changes: ordered, ctx })
    assert.deepEqual(again.results.map((r) => r.status), ordered.map(() => 'unchanged'))
  })

  it('keeps setuid bits through a change of owner', async () => {
    const ctx = createTestContext(root.dir)
    const { twin, manifest } = await twinOf(ctx)
    const tool = manifest.entries.find((e) => e.path === '/usr/local/bin/tool')
    Object.assign(tool ?? {}, { owner: 'alice', uid: 1000 })
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    const changes = await plan(ctx, twin)
    assert.deepEqual(changes.map((c) => c.id), ['files:chown:/usr/local/bin/tool'])
    await provider.apply({ changes, ctx })
    const st = lstatSync(root.path('/usr/local/bin/tool'))
    assert.deepEqual([st.uid, st.mode & 0o7777], [1000, 0o4755])
  })

  it('changes mode and owner of one file together, in one step that passes its staleness check', async () => {
    const ctx = createTestContext(root.dir)
    const { twin, manifest } = await twinOf(ctx)
    const motd = manifest.entries.find((e) => e.path === '/etc/motd')
    Object.assign(motd ?? {}, { mode: '0600', owner: 'alice', uid: 1000, group: 'webops', gid: 1234 })
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    const changes = await plan(ctx, twin)
    assert.deepEqual(changes.map((c) => c.id), ['files:attributes:/etc/motd'])
    const { results } = await provider.apply({ changes, ctx })
    assert.deepEqual(results.map((r) => [r.status, r.message]), [['applied', undefined]])
    const st = lstatSync(root.path('/etc/motd'))
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o600, 1000, 1234])
    assert.deepEqual(await plan(ctx, twin), [], 'nothing left to do')
  })

  it('refuses a path whose parent is a symlink leading outside the root', async () => {
    root.link('/etc/escape', '../../../../../../../..')
    const ctx = createTestContext(root.dir)
    const { results } = await provider.apply({ changes: [writeChange('/etc/escape/tmp/twinsync-escaped', 'x\n')], ctx })
    assert.equal(results[0]?.status, 'failed')
    assert.match(results[0]?.message ?? '', /\/etc\/escape is a symlink on the machine|PATH_OUTSIDE_ROOT/)
    assert.equal(existsSync('/tmp/twinsync-escaped'), false)
  })

  it('never writes, changes or deletes below a folder that is a symlink when the change runs, even one an earlier change of the same plan made', async () => {
    root.dirAt('/root/.ssh', 0o700).file('/root/.ssh/known', 'kept\n', { mode: 0o600 }).link('/etc/keys', '/root/.ssh')
    const ctx = createTestContext(root.dir)
    const link: Change = {
      id: 'files:create:/etc/made', provider: 'files', category: 'files', operation: 'create', resource: '/etc/made', summary: 'Create symlink /etc/made', risk: 'low',
      data: { action: 'symlink', path: '/etc/made', target: '/root/.ssh', uid: 0, gid: 0 },
    }
    const chmod: Change = { ...writeChange('/etc/keys/known', ''), id: 'files:chmod:/etc/keys/known', data: { action: 'chmod', path: '/etc/keys/known', mode: 0o666 } }
    const remove: Change = { ...writeChange('/etc/keys/known', ''), id: 'files:delete:/etc/keys/known', data: { action: 'delete', path: '/etc/keys/known' } }
    const { results } = await provider.apply({ changes: [link, writeChange('/etc/made/authorized_keys', 'attacker\n'), writeChange('/etc/keys/authorized_keys', 'attacker\n'), chmod, remove], ctx })
    assert.deepEqual(results.map((r) => r.status), ['applied', 'failed', 'failed', 'failed', 'failed'])
    assert.match(results[1]?.message ?? '', /^\/etc\/made\/authorized_keys is outside the files provider's scope \(\/etc\/made is a symlink on the machine \(to \/root\/\.ssh\); the files provider never writes through one\); not applied$/)
    assert.deepEqual(readdirSync(root.path('/root/.ssh')), ['known'])
    assert.equal(lstatSync(root.path('/root/.ssh/known')).mode & 0o777, 0o600)
  })

  it('fails a sudoers change that visudo rejects and leaves the live file untouched', async () => {
    // A dry run over a target that has visudo: visudo's verdict is answered from the candidate
    // the provider wrote beside the real file (which the dry run recorded, not made).
    root.file('/usr/sbin/visudo', '#!/bin/sh\n', { mode: 0o755 })
    const target = new LocalHost(root.dir)
    const host: RecordingHost = new RecordingHost(target, {
      exec: (command, args) => {
        const file = args[args.length - 1] ?? ''
        const candidate = host.actions.findLast((a) => a.kind === 'write' && a.path === file)
        if (command !== 'visudo' || candidate?.kind !== 'write') return { exitCode: 127, stderr: `unexpected: ${command} ${args.join(' ')}` }
        return candidate.content.includes('garbage') ? { exitCode: 1, stderr: `${file}:1:8: syntax error` } : {}
      },
    })
    const ctx = createTestContext(root.dir, { host })
    const { results } = await provider.apply({ changes: [writeChange('/etc/sudoers', 'garbage ALL=(\n')], ctx })
    assert.equal(results[0]?.status, 'failed')
    assert.match(results[0]?.message ?? '', /visudo rejects/)
    assert.match(results[0]?.outputTail ?? '', /\/etc\/sudoers:1:8: syntax error/)
    // The candidate is written inside the target beside the real file, checked there by the
    // target's visudo, then removed (and the live file checked the same way, to tell a broken
    // candidate from a target visudo cannot judge); the live file is never written.
    const [write, check, remove] = host.actions
    assert.ok(write?.kind === 'write' && /^\/etc\/\.sudoers\.twinsync-check-[0-9a-f]+$/.test(write.path) && write.content === 'garbage ALL=(\n', JSON.stringify(write))
    // The distribution's visudo: a PATH without /usr/local, where the twin can write (CHECKER_PATH).
    assert.deepEqual(check, { kind: 'exec', command: 'visudo', args: ['-c', '-f', write.path], inTarget: true, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } })
    assert.deepEqual(remove, { kind: 'remove', path: write.path })
    const temps = host.actions.flatMap((a) => (a.kind === 'write' ? [a.path] : []))
    assert.ok(temps.every((p) => p.startsWith('/etc/.sudoers.twinsync-check-')), 'the live file is never written')
    assert.deepEqual(host.actions.flatMap((a) => (a.kind === 'remove' ? [a.path] : [])), temps, 'no temp file is left behind')
    assert.equal(readFileSync(root.path('/etc/sudoers'), 'utf8'), 'root ALL=(ALL:ALL) ALL\n')

    host.actions.length = 0
    const good = await provider.apply({ changes: [writeChange('/etc/sudoers', 'root ALL=(ALL) NOPASSWD: ALL\n')], ctx })
    assert.equal(good.results[0]?.status, 'applied')
    assert.deepEqual(
      host.actions.map((a) => [a.kind, 'path' in a ? a.path.replace(/twinsync-check-[0-9a-f]+$/, 'twinsync-check-*') : a.command]),
      [
        ['write', '/etc/.sudoers.twinsync-check-*'],
        ['exec', 'visudo'],
        ['remove', '/etc/.sudoers.twinsync-check-*'],
        ['write', '/etc/sudoers'],
      ],
    )
    const live = host.actions[3]
    assert.ok(live?.kind === 'write' && live.content === 'root ALL=(ALL) NOPASSWD: ALL\n' && live.mode === 0o440)
  })

  it('fails a change whose live file moved since the plan', async () => {
    const ctx = createTestContext(root.dir)
    const { twin } = await twinOf(ctx)
    twin.set('filesystem/etc/hosts', 'planned\n')
    const changes = await plan(ctx, twin)
    root.file('/etc/hosts', 'someone else edited this\n')
    const { results } = await provider.apply({ changes, ctx })
    assert.equal(results[0]?.status, 'failed')
    assert.match(results[0]?.message ?? '', /changed on the machine since the plan/)
    assert.equal(readFileSync(root.path('/etc/hosts'), 'utf8'), 'someone else edited this\n')
  })

  it('never overwrites or deletes a secret, even when a plan asks', async () => {
    const ctx = createTestContext(root.dir)
    const del: Change = { ...writeChange('/etc/app/app.conf', ''), id: 'files:delete:/etc/app/app.conf', operation: 'delete', data: { action: 'delete', path: '/etc/app/app.conf' } }
    const { results } = await provider.apply({ changes: [writeChange('/etc/shadow', 'root::0:0:::::\n'), del], ctx })
    assert.deepEqual(results.map((r) => r.status), ['failed', 'failed'])
    assert.match(readFileSync(root.path('/etc/shadow'), 'utf8'), /secrethash/)
    assert.ok(existsSync(root.path('/etc/app/app.conf')))
  })

  it('deletes a folder the twin no longer has entry by entry, as the plan names them, and keeps what the plan never named (FILES_DELETE_KEPT)', async () => {
    // What the twin never knew, inside a folder the twin drops: ignored names, a dpkg leftover,
    // another provider's path; then, after the plan, a private key put there and a named file edited.
    root
      .file('/etc/site/site.conf', 'listen 80\n')
      .file('/etc/site/sub/b.conf', 'b = 1\n')
      .file('/etc/site/sub/c.conf', 'c = 1\n')
      .file('/etc/site/notes.bak', 'my notes\n')
      .file('/etc/site/node_modules/m/index.js', 'module\n')
      .file('/etc/site/site.conf.dpkg-old', 'old\n')
      .file('/etc/site/crontab', '* * * * * root true\n')
    const other = { name: 'cron', claims: ['/etc/site/crontab'] } as unknown as Provider
    const ctx = createTestContext(root.dir, { providers: [provider, other] })
    const { twin, manifest } = await twinOf(ctx)
    manifest.entries = manifest.entries.filter((e) => e.path !== '/etc/site' && !e.path.startsWith('/etc/site/'))
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    const changes = await plan(ctx, await without(twin, 'filesystem/etc/site/'))
    const del = changes.find((c) => c.id === 'files:delete:/etc/site')
    assert.ok(del, changes.map((c) => c.id).join(', '))
    assert.equal(del.summary, 'Delete /etc/site and the 4 entries below it')
    assert.deepEqual(
      (del.data as { below?: Array<{ path: string }> }).below?.map((e) => e.path),
      ['/etc/site/site.conf', '/etc/site/sub', '/etc/site/sub/b.conf', '/etc/site/sub/c.conf'],
      'the plan names what it deletes',
    )

    root.file('/etc/site/id_ed25519', PEM_KEY, { mode: 0o600 })
    root.file('/etc/site/sub/b.conf', 'b = 2, edited after the plan\n')
    const { results } = await provider.apply({ changes: [del], ctx })
    const result = results[0]
    assert.equal(result?.status, 'failed', 'a folder that could not go is not reported done')
    const kept = result?.diagnostics?.find((d) => d.code === 'FILES_DELETE_KEPT')
    assert.ok(kept, JSON.stringify(result))
    assert.equal(kept.severity, 'warning')
    assert.equal(kept.path, '/etc/site')
    assert.match(kept.detail ?? '', /twinsync discard files:delete:\/etc\/site/)
    for (const [path, why] of [
      ['/etc/site/notes.bak', /ignored/],
      ['/etc/site/node_modules', /ignored/],
      ['/etc/site/site.conf.dpkg-old', /a dpkg\/ucf leftover/],
      ['/etc/site/crontab', /the cron provider's/],
      ['/etc/site/id_ed25519', /not in the plan/],
      ['/etc/site/sub/b.conf', /changed on the machine since the plan/],
    ] as const) {
      assert.ok(existsSync(root.path(path)), `${path} is kept`)
      assert.match(kept.summary + (kept.detail ?? ''), new RegExp(`${path.replace(/[./]/g, '\\$&')} \\(${why.source}`), path)
    }
    assert.equal(readFileSync(root.path('/etc/site/id_ed25519'), 'utf8'), PEM_KEY)
    assert.equal(readFileSync(root.path('/etc/site/sub/b.conf'), 'utf8'), 'b = 2, edited after the plan\n')
    // What the plan named (and is as it was) is gone.
    assert.equal(existsSync(root.path('/etc/site/site.conf')), false)
    assert.equal(existsSync(root.path('/etc/site/sub/c.conf')), false)
  })

  it('deletes a whole folder when it holds only what the plan names, and nothing inside a folder a plan names nothing in', async () => {
    root.file('/etc/site/site.conf', 'listen 80\n').file('/etc/site/sub/b.conf', 'b = 1\n')
    const ctx = createTestContext(root.dir)
    const { twin, manifest } = await twinOf(ctx)
    manifest.entries = manifest.entries.filter((e) => e.path !== '/etc/site' && !e.path.startsWith('/etc/site/'))
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    const changes = await plan(ctx, await without(twin, 'filesystem/etc/site/'))
    const del = changes.find((c) => c.id === 'files:delete:/etc/site')
    assert.ok(del)
    // A hand-written (or older) plan that names nothing below the folder deletes nothing in it.
    const bare: Change = { ...del, liveFingerprint: undefined, data: { action: 'delete', path: '/etc/site' } }
    const first = await provider.apply({ changes: [bare], ctx })
    assert.equal(first.results[0]?.status, 'failed')
    assert.ok(existsSync(root.path('/etc/site/sub/b.conf')) && existsSync(root.path('/etc/site/site.conf')))
    const { results } = await provider.apply({ changes: [del], ctx })
    assert.equal(results[0]?.status, 'applied', JSON.stringify(results[0]))
    assert.equal(existsSync(root.path('/etc/site')), false)
    assert.deepEqual((await provider.apply({ changes: [del], ctx })).results[0]?.status, 'unchanged')
  })

  it('keeps a folder something was put in while it was being cleared: the folder goes only if empty (rmdir), else FILES_DELETE_KEPT', async () => {
    root.file('/etc/site/site.conf', 'listen 80\n').file('/etc/site/sub/b.conf', 'b = 1\n').file('/etc/other/o.conf', 'o = 1\n')
    const ctx = createTestContext(root.dir)
    const { twin, manifest } = await twinOf(ctx)
    const gone = (p: string) => ['/etc/site', '/etc/other'].some((f) => p === f || p.startsWith(`${f}/`))
    manifest.entries = manifest.entries.filter((e) => !gone(e.path))
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    const changes = await plan(ctx, await without(await without(twin, 'filesystem/etc/site/'), 'filesystem/etc/other/'))
    const del = changes.find((c) => c.id === 'files:delete:/etc/site')
    const other = changes.find((c) => c.id === 'files:delete:/etc/other')
    assert.ok(del && other)
    // The race: a file lands in a folder after it was emptied, just before the folder itself goes
    // (a folder below the one deleted, and the one deleted).
    const local = new LocalHost(root.dir)
    const late = ['/etc/site/sub', '/etc/other']
    const racing = new Proxy(local, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown
        if (typeof value !== 'function') return value
        if (key !== 'remove' && key !== 'rmdir') return (value as (...a: unknown[]) => unknown).bind(target)
        return async (path: string) => {
          if (late.includes(path)) root.file(`${path}/arrived-late.conf`, 'put here meanwhile\n')
          return (value as (p: string) => Promise<unknown>).call(target, path)
        }
      },
    })
    const { results } = await provider.apply({ changes: [del, other], ctx: { ...ctx, host: racing } })
    // Before, a folder went with rm -r, and with it what arrived meanwhile, reported done.
    assert.ok(existsSync(root.path('/etc/site/sub/arrived-late.conf')) && existsSync(root.path('/etc/other/arrived-late.conf')), 'nothing the plan did not name is deleted')
    assert.equal(['/etc/site/sub/b.conf', '/etc/site/site.conf', '/etc/other/o.conf'].some((p) => existsSync(root.path(p))), false, 'what the plan named is gone')
    for (const [i, folder] of [[0, '/etc/site/sub'], [1, '/etc/other']] as const) {
      assert.equal(results[i]?.status, 'failed', 'the deletion stays pending')
      const kept = results[i]?.diagnostics?.find((d) => d.code === 'FILES_DELETE_KEPT')
      assert.ok(kept, JSON.stringify(results[i]))
      assert.match(kept.summary, new RegExp(`${folder.replace(/[./]/g, '\\$&')} \\(not empty: something was put in it while it was being deleted\\)`))
    }
  })

  it('a named file replaced by a folder after its check is kept with what that folder holds (unlink, never rm -r): FILES_DELETE_KEPT; the same for a file deleted alone', async () => {
    root.file('/etc/site/site.conf', 'listen 80\n').file('/etc/site/keep.conf', 'k = 1\n').file('/etc/lone.conf', 'x = 1\n')
    const ctx = createTestContext(root.dir)
    const { twin, manifest } = await twinOf(ctx)
    const gone = (p: string) => p === '/etc/site' || p.startsWith('/etc/site/') || p === '/etc/lone.conf'
    manifest.entries = manifest.entries.filter((e) => !gone(e.path))
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    const changes = await plan(ctx, await without(await without(twin, 'filesystem/etc/site/'), 'filesystem/etc/lone.conf'))
    const del = changes.find((c) => c.id === 'files:delete:/etc/site')
    const lone = changes.find((c) => c.id === 'files:delete:/etc/lone.conf')
    assert.ok(del && lone, JSON.stringify(changes.map((c) => c.id)))
    // The race: after the check of the file (as the plan saw it), something puts a folder with a file in its place.
    const local = new LocalHost(root.dir)
    const swapped = ['/etc/site/site.conf', '/etc/lone.conf']
    const racing = new Proxy(local, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown
        if (typeof value !== 'function') return value
        if (key !== 'remove' && key !== 'unlink') return (value as (...a: unknown[]) => unknown).bind(target)
        return async (path: string) => {
          if (swapped.includes(path)) {
            rmSync(root.path(path))
            root.file(`${path}/arrived-late.conf`, 'put here meanwhile\n')
          }
          return (value as (p: string) => Promise<unknown>).call(target, path)
        }
      },
    })
    const { results } = await provider.apply({ changes: [del, lone], ctx: { ...ctx, host: racing } })
    // Before, the checked path went with rm -r, and with it the folder and what arrived in it, reported done.
    for (const path of swapped) assert.equal(readFileSync(root.path(`${path}/arrived-late.conf`), 'utf8'), 'put here meanwhile\n', `${path}'s new folder was deleted`)
    assert.equal(existsSync(root.path('/etc/site/keep.conf')), false, 'what the plan named is gone')
    assert.deepEqual(results.map((r) => r.status), ['failed', 'failed'], 'the deletions stay pending')
    const kept = results[0]?.diagnostics?.find((d) => d.code === 'FILES_DELETE_KEPT')
    assert.match(kept?.summary ?? '', /\/etc\/site\/site\.conf \(a folder now: something was put in place of the file while it was being deleted\)/)
    assert.match(results[1]?.message ?? '', /\/etc\/lone\.conf is a folder now .*it is kept/)
  })

  // Session 17: a twin file in place of a folder the machine has removed the folder with rm -r
  // before the deletes the plan named ran: with it went files the plan never named (ignored
  // *.bak, new ones), which no checkpoint holds either.
  it('replaces a folder by a file only once it is empty: the named deletes first, never rm -r; a file the plan does not name keeps the folder', async () => {
    root.file('/etc/site/site.conf', 'listen 80\n').file('/etc/site/old.conf', 'listen 81\n').file('/etc/site/local.bak', 'a person\'s backup\n')
    const ctx = createTestContext(root.dir)
    const { twin } = await twinOf(ctx)
    const edited = await without(twin, 'filesystem/etc/site/')
    edited.set('filesystem/etc/site', 'now a file\n')
    const changes = await plan(ctx, edited)
    const replace = changes.find((c) => c.id === 'files:replace:/etc/site')
    const deletes = changes.filter((c) => c.operation === 'delete' && c.resource.startsWith('/etc/site/'))
    assert.ok(replace, JSON.stringify(changes.map((c) => c.id)))
    assert.deepEqual(deletes.map((c) => c.resource).sort(), ['/etc/site/old.conf', '/etc/site/site.conf'], 'the ignored backup is not named')
    assert.deepEqual([...(replace.requires ?? [])].sort(), deletes.map((c) => c.id).sort(), 'the replacement waits for the deletes below it')
    // In the order the graph runs them: the deletes, then the replacement.
    const first = await provider.apply({ changes: deletes, ctx })
    assert.deepEqual(first.results.map((r) => r.status), ['applied', 'applied'])
    const { results } = await provider.apply({ changes: [replace], ctx })
    assert.equal(results[0]?.status, 'failed', 'stays pending')
    assert.match(results[0]?.message ?? '', /\/etc\/site is a folder that still holds what the plan does not name .*kept/)
    assert.equal(readFileSync(root.path('/etc/site/local.bak'), 'utf8'), 'a person\'s backup\n')
    // Once the person moved it away, the folder goes (rmdir) and the file takes its place.
    rmSync(root.path('/etc/site/local.bak'))
    const again = await provider.apply({ changes: [replace], ctx })
    assert.equal(again.results[0]?.status, 'applied', JSON.stringify(again.results))
    assert.equal(readFileSync(root.path('/etc/site'), 'utf8'), 'now a file\n')
  })

  it('refuses a change whose payload is not a files payload', async () => {
    const ctx = createTestContext(root.dir)
    const bad = { ...writeChange('/etc/hosts', 'x'), data: { action: 'write', path: 'etc/hosts' } }
    const { results } = await provider.apply({ changes: [bad], ctx })
    assert.equal(results[0]?.status, 'failed')
  })

  it('conforms to the provider contract on a small target root', async () => {
    assert.deepEqual(await checkConformance(provider, createTestContext(root.dir)), [])
  })
})
