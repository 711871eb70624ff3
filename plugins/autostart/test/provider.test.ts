import { strict as assert } from 'node:assert'
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { LocalHost, MemoryTwin, RecordingHost, validatorOf, type Change, type ProviderContext } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { AutostartProvider, providers, startupEntries, type AutostartState } from '../src/index.js'
import { AutostartDocument, RcLocalDocument } from '../src/state.js'

// Ids on purpose unlike the host's, so a name taken from the host would show.
const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nann:x:2001:2002:Ann:/home/ann:/bin/bash\nbobby:x:2005:2005::/home/bob:/bin/sh\n'
const GROUP = 'root:x:0:\nstaff:x:50:\nann:x:2002:\nbobby:x:2005:\n'

const SYSTEM_ENTRY = '[Desktop Entry]\nType=Application\nName=Updater\nExec=/usr/bin/update-notifier\nOnlyShowIn=GNOME;XFCE;\nX-GNOME-Autostart-enabled=true\n'
const ANN_ENTRY = '[Desktop Entry]\nType=Application\nName=Notes\nExec=notes --tray\n'
const RC = '#!/bin/sh -e\ntouch /run/rc-local-ran\nexit 0\n'

async function write(root: string, path: string, content: string, mode = 0o644, uid = 0, gid = 0): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true })
  await writeFile(join(root, path), content)
  await chown(join(root, path), uid, gid)
  await chmod(join(root, path), mode)
}

describe('AutostartProvider', () => {
  const provider = new AutostartProvider()
  let root: string
  let ctx: ProviderContext

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-autostart-'))
    await write(root, '/etc/passwd', PASSWD)
    await write(root, '/etc/group', GROUP)
    await write(root, '/etc/xdg/autostart/update-notifier.desktop', SYSTEM_ENTRY)
    await write(root, '/etc/xdg/autostart/readme.txt', 'not an entry\n')
    await write(root, '/home/ann/.config/autostart/notes.desktop', ANN_ENTRY, 0o600, 2001, 2002)
    await write(root, '/home/bob/.config/autostart/update-notifier.desktop', '[Desktop Entry]\nHidden=true\n', 0o644, 2005, 2005)
    await write(root, '/etc/rc.local', RC, 0o644)
    await write(root, '/lib/systemd/system/rc-local.service', '[Unit]\nConditionFileIsExecutable=/etc/rc.local\n')
    ctx = createTestContext(root, { providers })
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  /** The SDK's recording port over the same root: what an apply asks of the port, without making it. */
  const dryRun = () => {
    const host = new RecordingHost(new LocalHost(root))
    return { host, ctx: createTestContext(root, { providers, host }) }
  }

  it('exports its provider with its claims and twin paths', () => {
    assert.ok(providers[0] instanceof AutostartProvider)
    assert.deepEqual(provider.claims, ['/etc/rc.local', '/etc/xdg/autostart/*.desktop', '/root/.config/autostart/*.desktop', '/home/*/.config/autostart/*.desktop'])
    assert.deepEqual(provider.twinPaths, ['system/startup/autostart.json', 'system/startup/rc-local.json'])
    assert.equal(provider.category, 'startup')
  })

  it('conforms to the SDK contract', async () => {
    assert.deepEqual(await checkConformance(provider, ctx), [])
  })

  it('mirrors the entries and rc.local, and describes them with target owner names', async () => {
    const { documents, state, diagnostics } = await provider.collect({ ctx })
    assert.deepEqual(diagnostics, [])
    assert.deepEqual(
      documents.map((d) => [d.path, d.executable]),
      [
        ['filesystem/etc/rc.local', false],
        ['filesystem/etc/xdg/autostart/update-notifier.desktop', undefined],
        ['filesystem/home/ann/.config/autostart/notes.desktop', undefined],
        ['filesystem/home/bob/.config/autostart/update-notifier.desktop', undefined],
        ['system/startup/autostart.json', undefined],
        ['system/startup/rc-local.json', undefined],
      ],
    )
    const json = JSON.parse(String(documents[4]?.content)) as { entries: Array<Record<string, unknown>> }
    assert.deepEqual(json.entries, [
      {
        enabled: true,
        exec: '/usr/bin/update-notifier',
        gnomeAutostartEnabled: true,
        group: 'root',
        hidden: false,
        mode: '0644',
        name: 'Updater',
        notShowIn: [],
        onlyShowIn: ['GNOME', 'XFCE'],
        owner: 'root',
        path: '/etc/xdg/autostart/update-notifier.desktop',
        scope: 'system',
      },
      {
        enabled: true,
        exec: 'notes --tray',
        group: 'ann',
        hidden: false,
        mode: '0600',
        name: 'Notes',
        notShowIn: [],
        onlyShowIn: [],
        owner: 'ann',
        path: '/home/ann/.config/autostart/notes.desktop',
        scope: 'user',
        user: 'ann',
      },
      {
        enabled: false,
        exec: '',
        group: 'bobby',
        hidden: true,
        mode: '0644',
        name: 'update-notifier',
        notShowIn: [],
        onlyShowIn: [],
        overrides: '/etc/xdg/autostart/update-notifier.desktop',
        owner: 'bobby',
        path: '/home/bob/.config/autostart/update-notifier.desktop',
        scope: 'user',
        user: 'bobby',
      },
    ])
    assert.equal(
      documents[5]?.content,
      '{\n  "executable": false,\n  "exists": true,\n  "group": "root",\n  "interpreter": "/bin/sh -e",\n  "mode": "0644",\n  "owner": "root",\n' +
        '  "path": "/etc/rc.local",\n  "service": "/lib/systemd/system/rc-local.service",\n  "serviceMasked": false,\n  "wouldRun": false\n}\n',
    )
    assert.equal(state.rcLocal.wouldRun, false)
  })

  // Session 41: load takes the text collect just made without the schema's check (MadeDocuments).
  it('makes autostart.json and rc-local.json that pass their schemas', async () => {
    const { documents } = await provider.collect({ ctx })
    for (const [path, schema] of [['system/startup/autostart.json', AutostartDocument()], ['system/startup/rc-local.json', RcLocalDocument()]] as const) {
      const text = documents.find((d) => d.path === path)?.content
      assert.equal(typeof text, 'string', path)
      assert.equal(validatorOf(schema).Check(JSON.parse(String(text))), true, `${path} passes its schema`)
    }
  })

  it('says rc.local would run only when it is executable, has #! and the unit exists unmasked', async () => {
    await chmod(join(root, '/etc/rc.local'), 0o755)
    assert.equal((await provider.collect({ ctx })).state.rcLocal.wouldRun, true)
    await mkdir(join(root, '/etc/systemd/system'), { recursive: true })
    await symlink('/dev/null', join(root, '/etc/systemd/system/rc-local.service'))
    const masked = (await provider.collect({ ctx })).state.rcLocal
    assert.deepEqual([masked.service, masked.serviceMasked, masked.wouldRun], ['/etc/systemd/system/rc-local.service', true, false])
    await rm(join(root, '/etc/systemd/system/rc-local.service'))
    await write(root, '/etc/rc.local', 'touch /x\n', 0o755)
    assert.equal((await provider.collect({ ctx })).state.rcLocal.wouldRun, false)
    await rm(join(root, '/lib/systemd/system/rc-local.service'))
    await write(root, '/etc/rc.local', RC, 0o755)
    const noUnit = (await provider.collect({ ctx })).state.rcLocal
    assert.deepEqual([noUnit.service, noUnit.wouldRun], [undefined, false])
  })

  it('records a symlinked entry as not mirrored instead of following it', async () => {
    await symlink('/usr/share/x.desktop', join(root, '/etc/xdg/autostart/linked.desktop'))
    const { state, diagnostics } = await provider.collect({ ctx })
    assert.deepEqual(state.ignored, [{ path: '/etc/xdg/autostart/linked.desktop', reason: 'a symlink, not a regular file' }])
    assert.deepEqual(diagnostics.map((d) => d.code), ['AUTOSTART_NOT_MIRRORED'])
  })

  it('an entry or rc.local that is not UTF-8: not mirrored from the machine (AUTOSTART_NOT_MIRRORED), refused from the twin (TWIN_INVALID, no state); before session 40 decoded lossily, and an apply of any edit wrote U+FFFD back', async () => {
    await mkdir(join(root, 'etc/xdg/autostart'), { recursive: true })
    await writeFile(join(root, 'etc/xdg/autostart/cafe.desktop'), Buffer.from('[Desktop Entry]\nName=Caf\xe9\nExec=cafe\n', 'latin1'))
    const { state, documents, diagnostics } = await provider.collect({ ctx })
    assert.deepEqual(state.ignored, [{ path: '/etc/xdg/autostart/cafe.desktop', reason: 'it is not UTF-8 text (decoded, an apply would write other bytes back)' }])
    assert.deepEqual(diagnostics.map((d) => d.code), ['AUTOSTART_NOT_MIRRORED'])
    assert.ok(!documents.some((d) => d.path.endsWith('cafe.desktop')))
    for (const doc of ['filesystem/etc/xdg/autostart/update-notifier.desktop', 'filesystem/etc/rc.local']) {
      const twin = new MemoryTwin(documents)
      twin.set(doc, new Uint8Array([0x23, 0x20, 0xff, 0x0a]))
      const loaded = await provider.load({ ctx, twin })
      assert.equal(loaded.state, undefined, doc)
      assert.deepEqual(loaded.diagnostics.map((d) => [d.severity, d.code, d.path]), [['error', 'TWIN_INVALID', doc]])
    }
  })

  it('turns the state into startup rows', async () => {
    const { state } = await provider.collect({ ctx })
    assert.deepEqual(startupEntries(state), [
      { source: 'rc.local', trigger: 'boot', user: 'root', name: '/etc/rc.local', command: '/etc/rc.local', enabled: false },
      { source: 'autostart', trigger: 'login', name: '/etc/xdg/autostart/update-notifier.desktop', command: '/usr/bin/update-notifier', enabled: true, onlyShowIn: ['GNOME', 'XFCE'] },
      { source: 'autostart', trigger: 'login', user: 'ann', name: '/home/ann/.config/autostart/notes.desktop', command: 'notes --tray', enabled: true },
      { source: 'autostart', trigger: 'login', user: 'bobby', name: '/home/bob/.config/autostart/update-notifier.desktop', command: '', enabled: false },
    ])
  })

  /** Collect, let `edit` change the twin, load it back and diff: what a plan would hold. */
  async function plan(edit: (twin: MemoryTwin, json: { autostart: AutostartJson; rcLocal: Record<string, unknown> }) => void): Promise<Change[]> {
    return (await planWithState(edit)).changes
  }
  async function planWithState(edit: (twin: MemoryTwin, json: { autostart: AutostartJson; rcLocal: Record<string, unknown> }) => void) {
    const collected = await provider.collect({ ctx })
    const twin = new MemoryTwin(collected.documents)
    const json = {
      autostart: JSON.parse((await twin.readText('system/startup/autostart.json')) ?? '') as AutostartJson,
      rcLocal: JSON.parse((await twin.readText('system/startup/rc-local.json')) ?? '') as Record<string, unknown>,
    }
    edit(twin, json)
    twin.set('system/startup/autostart.json', JSON.stringify(json.autostart))
    twin.set('system/startup/rc-local.json', JSON.stringify(json.rcLocal))
    const loaded = await provider.load({ ctx, twin })
    assert.ok(loaded.state !== undefined)
    const result = provider.diff({ desired: loaded.state, actual: collected.state, ctx })
    assert.deepEqual(result.diagnostics, [])
    return { changes: result.changes, desired: loaded.state, loadDiagnostics: loaded.diagnostics }
  }
  type AutostartJson = { entries: Array<Record<string, unknown>> }

  describe('diff', () => {
    it('disables an entry edited in the .desktop file', async () => {
      const changes = await plan((twin) => twin.set('filesystem/etc/xdg/autostart/update-notifier.desktop', SYSTEM_ENTRY + 'Hidden=true\n'))
      assert.deepEqual(changes.map((c) => [c.id, c.risk, c.before, c.after]), [
        ['autostart:disable:/etc/xdg/autostart/update-notifier.desktop', 'medium', 'enabled, 0644 root:root', 'disabled, 0644 root:root'],
      ])
    })

    it("keeps the file's word over a contradicting enabled in autostart.json, with a warning", async () => {
      const { changes, loadDiagnostics } = await planWithState((_twin, json) => {
        const entry = json.autostart.entries.find((e) => e.path === '/home/ann/.config/autostart/notes.desktop')
        if (entry !== undefined) entry.enabled = false
      })
      assert.deepEqual(changes, [])
      assert.deepEqual(loadDiagnostics.map((d) => [d.severity, d.code, d.path]), [['warning', 'AUTOSTART_ENABLED_IGNORED', '/home/ann/.config/autostart/notes.desktop']])
    })

    it('lets the edited file win over a stale enabled in autostart.json', async () => {
      const changes = await plan((twin) => twin.set('filesystem/home/bob/.config/autostart/update-notifier.desktop', '[Desktop Entry]\n'))
      assert.deepEqual(changes.map((c) => c.id), ['autostart:enable:/home/bob/.config/autostart/update-notifier.desktop'])
    })

    it('makes rc.local executable from rc-local.json', async () => {
      const changes = await plan((_twin, json) => {
        json.rcLocal.executable = true
      })
      assert.deepEqual(changes.map((c) => [c.id, c.summary, c.risk]), [['autostart:chmod:/etc/rc.local', 'make /etc/rc.local executable (mode 0755)', 'high']])
      assert.equal((changes[0]?.data as { mode: string }).mode, '0755')
    })

    // Session 45: a chmod that also gives the file another owner said only the mode, and rc.local
    // already executable was "made executable" by a mode that only opened it to every user.
    it('says an owner the change also sets, and makes rc.local "executable" only when it was not', async () => {
      const changes = await plan((_twin, json) => {
        const entry = json.autostart.entries.find((e) => e.path === '/home/ann/.config/autostart/notes.desktop')
        if (entry !== undefined) Object.assign(entry, { mode: '0666', owner: 'bobby', group: 'bobby' })
      })
      assert.deepEqual(changes.map((c) => [c.id, c.summary]), [['autostart:chmod:/home/ann/.config/autostart/notes.desktop', 'set the mode of /home/ann/.config/autostart/notes.desktop to 0666, and its owner to bobby:bobby']])
      await chmod(join(root, 'etc/rc.local'), 0o755)
      const opened = await plan((_twin, json) => Object.assign(json.rcLocal, { mode: '0757', owner: 'ann' }))
      assert.deepEqual(opened.map((c) => [c.id, c.summary]), [['autostart:chmod:/etc/rc.local', 'set the mode of /etc/rc.local to 0757, and its owner to ann:root']])
    })

    it('lets executable in rc-local.json win over the execute bits of mode, with a warning', async () => {
      const { changes, loadDiagnostics } = await planWithState((_twin, json) => {
        json.rcLocal.mode = '0700'
      })
      assert.deepEqual(changes.map((c) => [c.id, (c.data as { mode: string }).mode]), [['autostart:chmod:/etc/rc.local', '0600']])
      assert.deepEqual(loadDiagnostics.map((d) => d.code), ['RC_LOCAL_MODE_ADJUSTED'])
    })

    it('creates a new user entry owned by the user, and removes a deleted one', async () => {
      const changes = await plan((twin) => {
        twin.set('filesystem/home/bob/.config/autostart/new.desktop', '[Desktop Entry]\nExec=new\n')
        twin.set('filesystem/home/ann/.config/autostart/notes.desktop', '')
      })
      // MemoryTwin cannot delete: emptying a file is a replace; removal is tested with a fresh twin below.
      assert.deepEqual(changes.map((c) => [c.operation, c.resource]), [
        ['replace', '/home/ann/.config/autostart/notes.desktop'],
        ['create', '/home/bob/.config/autostart/new.desktop'],
      ])
      assert.deepEqual(changes[1]?.data, { path: '/home/bob/.config/autostart/new.desktop', content: '[Desktop Entry]\nExec=new\n', mode: '0644', owner: 'bobby', group: 'bobby' })
    })

    it('removes entries and rc.local the twin no longer has', async () => {
      const collected = await provider.collect({ ctx })
      const twin = new MemoryTwin(collected.documents.filter((d) => d.path.startsWith('system/') || d.path.includes('/xdg/')))
      const loaded = await provider.load({ ctx, twin })
      assert.ok(loaded.state !== undefined)
      const changes = provider.diff({ desired: loaded.state, actual: collected.state, ctx }).changes
      assert.deepEqual(changes.map((c) => [c.operation, c.resource, c.risk]), [
        ['delete', '/home/ann/.config/autostart/notes.desktop', 'medium'],
        ['delete', '/home/bob/.config/autostart/update-notifier.desktop', 'medium'],
        ['delete', '/etc/rc.local', 'high'],
      ])
    })

    it('"ignored" in autostart.json plans nothing, and is declared a description (an edit of it is kept and said, not written over)', async () => {
      const collected = await provider.collect({ ctx })
      const docs = collected.documents.map((d) => (d.path === 'system/startup/autostart.json' ? { ...d, content: JSON.stringify({ ...JSON.parse(String(d.content)), ignored: [{ path: '/etc/xdg/autostart/x.desktop', reason: 'edited' }] }) } : d))
      const loaded = await provider.load({ ctx, twin: new MemoryTwin(docs) })
      assert.deepEqual(provider.diff({ desired: loaded.state as AutostartState, actual: collected.state, ctx }).changes, [])
      assert.ok(provider.describes.some((p) => p.path === 'system/startup/autostart.json' && p.keys?.join('/') === 'ignored'))
    })

    it('is pure: equal states give no change', async () => {
      const { state } = await provider.collect({ ctx })
      const copy = JSON.parse(JSON.stringify(state)) as AutostartState
      assert.deepEqual(provider.diff({ desired: copy, actual: state, ctx }), { changes: [], diagnostics: [] })
    })
  })

  describe('apply', () => {
    it('creates rc.local where the machine has none, owned by root, executable as the twin says', async () => {
      await rm(join(root, 'etc/rc.local'))
      const collected = await provider.collect({ ctx })
      const twin = new MemoryTwin(collected.documents)
      twin.set('filesystem/etc/rc.local', RC)
      twin.set('system/startup/rc-local.json', JSON.stringify({ path: '/etc/rc.local', exists: true, executable: true, serviceMasked: false, wouldRun: true }))
      const loaded = await provider.load({ ctx, twin })
      const changes = provider.diff({ desired: loaded.state as AutostartState, actual: collected.state, ctx }).changes
      assert.deepEqual(changes.map((c) => c.id), ['autostart:create:/etc/rc.local'])
      const result = await provider.apply({ changes, ctx })
      assert.deepEqual(result.results.map((r) => [r.status, r.message]), [['applied', undefined]])
      const st = await stat(join(root, 'etc/rc.local'))
      assert.deepEqual([st.mode & 0o7777, st.uid, st.gid, await readFile(join(root, 'etc/rc.local'), 'utf8')], [0o755, 0, 0, RC])
    })

    it('disables an entry with an atomic write that keeps owner and mode', async () => {
      const changes = await plan((twin) => twin.set('filesystem/home/ann/.config/autostart/notes.desktop', ANN_ENTRY + 'Hidden=true\n'))
      assert.deepEqual(changes.map((c) => c.id), ['autostart:disable:/home/ann/.config/autostart/notes.desktop'])
      // Through the port: a dry run records the one write, with the entry's owner and mode.
      const dry = dryRun()
      assert.deepEqual((await provider.apply({ changes, ctx: dry.ctx })).results.map((r) => r.status), ['applied'])
      assert.deepEqual(dry.host.actions, [{ kind: 'write', path: '/home/ann/.config/autostart/notes.desktop', content: ANN_ENTRY + 'Hidden=true\n', mode: 0o600, uid: 2001, gid: 2002 }])
      const result = await provider.apply({ changes, ctx })
      assert.deepEqual(result.results.map((r) => r.status), ['applied'])
      const st = await stat(join(root, '/home/ann/.config/autostart/notes.desktop'))
      assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o600, 2001, 2002])
      assert.equal(await readFile(join(root, '/home/ann/.config/autostart/notes.desktop'), 'utf8'), ANN_ENTRY + 'Hidden=true\n')
      // The same plan again changes nothing.
      assert.deepEqual((await provider.apply({ changes, ctx })).results.map((r) => r.status), ['unchanged'])
    })

    it('makes rc.local executable with chmod, without rewriting it; the same twin then plans nothing', async () => {
      const { changes, desired } = await planWithState((_twin, json) => {
        json.rcLocal.executable = true
      })
      const dry = dryRun()
      assert.deepEqual((await provider.apply({ changes, ctx: dry.ctx })).results.map((r) => r.status), ['applied'])
      assert.deepEqual(dry.host.actions, [{ kind: 'chmod', path: '/etc/rc.local', mode: 0o755 }], 'a chmod, no write')
      const result = await provider.apply({ changes, ctx })
      assert.deepEqual(result.results.map((r) => r.status), ['applied'])
      assert.equal((await stat(join(root, '/etc/rc.local'))).mode & 0o7777, 0o755)
      const after = await provider.collect({ ctx })
      assert.equal(after.state.rcLocal.wouldRun, true)
      // The twin still says mode 0644 until the next snapshot; executable decides, so no change back.
      assert.deepEqual(provider.diff({ desired, actual: after.state, ctx }).changes, [])
    })

    it("creates a user's autostart folder, owned by the user, for a new entry", async () => {
      await rm(join(root, '/home/bob/.config'), { recursive: true })
      await mkdir(join(root, '/home/bob'), { recursive: true })
      const changes = await plan((twin) => twin.set('filesystem/home/bob/.config/autostart/new.desktop', '[Desktop Entry]\nExec=new\n'))
      const result = await provider.apply({ changes, ctx })
      assert.deepEqual(result.results.map((r) => [r.id, r.status]), [['autostart:create:/home/bob/.config/autostart/new.desktop', 'applied']])
      for (const p of ['/home/bob/.config', '/home/bob/.config/autostart', '/home/bob/.config/autostart/new.desktop']) {
        const st = await stat(join(root, p))
        assert.deepEqual([p, st.uid, st.gid], [p, 2005, 2005])
      }
      const after = await provider.collect({ ctx })
      const again = await provider.load({ ctx, twin: new MemoryTwin(after.documents) })
      assert.deepEqual(provider.diff({ desired: again.state as AutostartState, actual: after.state, ctx }).changes, [])
    })

    it('refuses a path outside its claims, whatever the plan says', async () => {
      const change: Change = {
        id: 'autostart:replace:/etc/shadow',
        provider: 'autostart',
        category: 'startup',
        operation: 'replace',
        resource: '/etc/shadow',
        summary: '',
        risk: 'low',
        data: { path: '/etc/shadow', content: 'x', mode: '0644', owner: 'root', group: 'root' },
      }
      const dry = dryRun()
      const result = await provider.apply({ changes: [change], ctx: dry.ctx })
      assert.deepEqual(result.results.map((r) => [r.status, r.diagnostics?.[0]?.code]), [['failed', 'CHANGE_INVALID']])
      assert.deepEqual(dry.host.actions, [], 'nothing was asked of the port')
    })

    it('refuses an owner the target does not know', async () => {
      const changes = await plan((_twin, json) => {
        const entry = json.autostart.entries.find((e) => e.path === '/etc/xdg/autostart/update-notifier.desktop')
        if (entry !== undefined) entry.owner = 'nobody-here'
      })
      const result = await provider.apply({ changes, ctx })
      assert.deepEqual(result.results.map((r) => [r.status, r.diagnostics?.[0]?.code]), [['failed', 'USER_UNKNOWN']])
    })

    it('refuses a change whose file moved since the plan was made', async () => {
      const changes = await plan((twin) => twin.set('filesystem/etc/xdg/autostart/update-notifier.desktop', SYSTEM_ENTRY + 'Hidden=true\n'))
      await write(root, '/etc/xdg/autostart/update-notifier.desktop', SYSTEM_ENTRY + 'Comment=changed\n')
      const result = await provider.apply({ changes, ctx })
      assert.deepEqual(result.results.map((r) => [r.status, r.diagnostics?.[0]?.code]), [['failed', 'PLAN_STALE']])
      assert.match(await readFile(join(root, '/etc/xdg/autostart/update-notifier.desktop'), 'utf8'), /Comment=changed/)
    })

    it('removes an entry', async () => {
      const collected = await provider.collect({ ctx })
      const twin = new MemoryTwin(collected.documents.filter((d) => !d.path.includes('/notes.desktop')))
      const loaded = await provider.load({ ctx, twin })
      const changes = provider.diff({ desired: loaded.state as AutostartState, actual: collected.state, ctx }).changes
      const result = await provider.apply({ changes, ctx })
      assert.deepEqual(result.results.map((r) => [r.id, r.status]), [['autostart:delete:/home/ann/.config/autostart/notes.desktop', 'applied']])
      assert.equal(await stat(join(root, '/home/ann/.config/autostart/notes.desktop')).catch(() => undefined), undefined)
    })
  })
})
