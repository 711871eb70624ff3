// Extended attributes, POSIX ACLs and file capabilities through plan and apply, with the real
// tools (setcap/getcap, setfattr/getfattr, setfacl/getfacl) on files of a temp root, never the
// host's own /.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { createTestContext } from '@twinsync/sdk/conformance'
import { ERROR_CODES, LocalHost, MemoryTwin, type Change, type Diagnostic, type ProviderContext } from '@twinsync/sdk'
import { FilesProvider, type Manifest } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

const provider = new FilesProvider()
const TOOLS: Record<string, string> = { getcap: 'libcap2-bin', setcap: 'libcap2-bin', getfattr: 'attr', setfattr: 'attr', getfacl: 'acl', setfacl: 'acl' }

function tool(command: string, ...args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Loud, never a skip: a missing tool fails the test with what to install. */
function requireAttrTools(): void {
  const missing = Object.keys(TOOLS).filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore', env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' } })
      return false
    } catch {
      return true
    }
  })
  if (missing.length > 0) throw new Error(`These tests need ${missing.join(', ')}: apt-get install -y ${[...new Set(missing.map((m) => TOOLS[m]))].join(' ')}`)
}

function capsOf(file: string): string {
  return tool('getcap', file).trim().replace(`${file} `, '')
}
function aclOf(file: string): string[] {
  return tool('getfacl', '-c', '-p', '-n', '-E', file).split('\n').filter((l) => l !== '' && !l.startsWith('#'))
}
function userXattr(file: string, name: string): string | undefined {
  try {
    return tool('getfattr', '--only-values', '-n', name, file)
  } catch {
    return undefined
  }
}

async function snapshot(ctx: ProviderContext): Promise<{ twin: MemoryTwin; manifest: Manifest }> {
  const { documents } = await provider.collect({ ctx })
  const twin = new MemoryTwin(documents)
  return { twin, manifest: JSON.parse((await twin.readText('system/files/manifest.json')) ?? '') as Manifest }
}

async function plan(ctx: ProviderContext, twin: MemoryTwin): Promise<{ changes: Change[]; diagnostics: Diagnostic[] }> {
  const desired = await provider.load({ ctx, twin })
  assert.ok(desired.state)
  const actual = await provider.collect({ ctx })
  return provider.diff({ desired: desired.state, actual: actual.state, ctx })
}

function editEntry(twin: MemoryTwin, manifest: Manifest, path: string, edit: (e: Manifest['entries'][number]) => void): void {
  const entry = manifest.entries.find((e) => e.path === path)
  assert.ok(entry, path)
  edit(entry)
  twin.set('system/files/manifest.json', JSON.stringify(manifest))
}

describe('files provider: extended attributes, ACLs and capabilities applied (real tools)', () => {
  let root: TargetRoot
  let ctx: ProviderContext
  before(requireAttrTools)
  beforeEach(() => {
    root = debianLikeRoot()
    ctx = createTestContext(root.dir)
    const tool_ = root.path('/usr/local/bin/tool')
    tool('setcap', 'cap_net_bind_service=ep', tool_)
    tool('setfacl', '-m', 'u:1000:rx', tool_)
    tool('setfattr', '-n', 'user.origin', '-v', 'built here', tool_)
  })
  afterEach(() => root.remove())

  it('a content rewrite keeps the live file\'s capabilities, ACL and user.* attributes (one step: temp file, metadata, rename)', async () => {
    const file = root.path('/usr/local/bin/tool')
    const { twin, manifest } = await snapshot(ctx)
    const entry = manifest.entries.find((e) => e.path === '/usr/local/bin/tool')
    assert.equal(entry?.capabilities, 'cap_net_bind_service=ep', 'the twin records the capability as getcap prints it')
    assert.deepEqual(Object.keys(entry?.xattrs ?? {}).sort(), ['system.posix_acl_access', 'user.origin'])
    const aclBefore = aclOf(file)
    const modeBefore = statSync(file).mode & 0o7777
    const inodeBefore = statSync(file).ino

    twin.set('filesystem/usr/local/bin/tool', '#!/bin/sh\necho tool 2\n')
    const { changes, diagnostics } = await plan(ctx, twin)
    assert.deepEqual(diagnostics.filter((d) => d.severity !== 'info'), [])
    assert.deepEqual(changes.map((c) => c.id), ['files:replace:/usr/local/bin/tool'])
    assert.equal('xattrs' in (changes[0]?.data as object), false, 'the twin and the machine agree: apply carries them over')

    const result = await provider.apply({ ctx, changes })
    assert.deepEqual(result.results.map((r) => [r.status, r.message]), [['applied', undefined]])
    assert.equal(readFileSync(file, 'utf8'), '#!/bin/sh\necho tool 2\n')
    assert.notEqual(statSync(file).ino, inodeBefore, 'rewritten through a temp file and a rename')
    assert.equal(capsOf(file), 'cap_net_bind_service=ep')
    assert.deepEqual(aclOf(file), aclBefore)
    assert.equal(userXattr(file, 'user.origin'), 'built here')
    assert.equal(statSync(file).mode & 0o7777, modeBefore)
    assert.deepEqual((await plan(ctx, twin)).changes, [], 'nothing left to do')
  })

  it('without getfattr and getcap anywhere (a stock Debian server: attr is not installed), a rewrite still keeps the capability, ACL, user.* attribute and mode it cannot see, and says nothing', async () => {
    // The same real files and tools, through a port that finds no attribute tool on the host or
    // in the target, as on a server without the attr and libcap2-bin packages.
    class NoAttrTools extends LocalHost {
      override async which(command: string, options: { inTarget?: boolean } = {}): Promise<string | undefined> {
        return ['getfattr', 'setfattr', 'getcap', 'setcap', 'getfacl', 'setfacl'].includes(command) ? undefined : super.which(command, options)
      }
    }
    const blind = createTestContext(root.dir, { host: new NoAttrTools(root.dir) })
    const file = root.path('/usr/local/bin/tool')
    tool('chmod', '0750', file)
    const { twin, manifest } = await snapshot(blind)
    const entry = manifest.entries.find((e) => e.path === '/usr/local/bin/tool')
    assert.equal(entry?.capabilities, undefined, 'nothing is known of them')
    assert.equal(entry?.xattrs, undefined)
    const aclBefore = aclOf(file)
    const inodeBefore = statSync(file).ino

    twin.set('filesystem/usr/local/bin/tool', '#!/bin/sh\necho tool 3\n')
    const { changes } = await plan(blind, twin)
    assert.deepEqual(changes.map((c) => c.id), ['files:replace:/usr/local/bin/tool'])
    const result = await provider.apply({ ctx: blind, changes })
    assert.deepEqual(result.results.map((r) => [r.status, r.message, (r.diagnostics ?? []).map((d) => d.code)]), [['applied', undefined, []]])
    assert.equal(readFileSync(file, 'utf8'), '#!/bin/sh\necho tool 3\n')
    assert.notEqual(statSync(file).ino, inodeBefore, 'rewritten through a temp file and a rename')
    assert.equal(capsOf(file), 'cap_net_bind_service=ep')
    assert.deepEqual(aclOf(file), aclBefore)
    assert.equal(userXattr(file, 'user.origin'), 'built here')
    assert.equal((statSync(file).mode & 0o7777).toString(8), '750')
    assert.deepEqual((await plan(blind, twin)).changes, [], 'nothing left to do')

    // A file that carries nothing gains nothing.
    const plain = root.path('/etc/motd')
    const { twin: twin2 } = await snapshot(blind)
    twin2.set('filesystem/etc/motd', 'hello\n')
    const motd = await plan(blind, twin2)
    assert.deepEqual(motd.changes.map((c) => c.id), ['files:replace:/etc/motd'])
    assert.equal(capsOf(plain), '')
    assert.deepEqual((await provider.apply({ ctx: blind, changes: motd.changes })).results.map((r) => r.status), ['applied'])
    assert.equal(capsOf(plain), '', 'a file without attributes gains none')
    assert.equal(userXattr(plain, 'user.origin'), undefined)
  })

  it('applies the twin\'s capability, ACL and user.* attribute to an existing file as one change, high risk for the capability', async () => {
    const file = root.path('/etc/motd')
    const { twin, manifest } = await snapshot(ctx)
    const acl = manifest.entries.find((e) => e.path === '/usr/local/bin/tool')?.xattrs?.['system.posix_acl_access']
    assert.ok(acl)
    editEntry(twin, manifest, '/etc/motd', (e) => {
      e.capabilities = 'cap_net_raw=ep'
      e.xattrs = { 'user.note': '0s' + Buffer.from('managed by twin').toString('base64'), 'system.posix_acl_access': acl }
      e.mode = '0640'
    })
    const { changes, diagnostics } = await plan(ctx, twin)
    assert.deepEqual(diagnostics.filter((d) => d.severity !== 'info'), [])
    assert.deepEqual(
      changes.map((c) => [c.id, c.risk, c.summary]),
      // Session 45: the ACL as getfacl writes it (it said "set system.posix_acl_access" alone, whatever it let whom do).
      [['files:attributes:/etc/motd', 'high', 'Change extended attributes of /etc/motd: set system.posix_acl_access (user::rw-,user:1000:r-x,group::r-x,mask::r--,other::---), set user.note, capabilities none → cap_net_raw=ep, with mode 0644 to 0640']],
    )
    const inodeBefore = statSync(file).ino
    const result = await provider.apply({ ctx, changes })
    assert.deepEqual(result.results.map((r) => r.status), ['applied'])
    assert.equal(statSync(file).ino, inodeBefore, 'metadata only: changed in place')
    assert.equal(capsOf(file), 'cap_net_raw=ep')
    assert.equal(userXattr(file, 'user.note'), 'managed by twin')
    assert.ok(aclOf(file).includes('user:1000:r-x'), aclOf(file).join(' '))
    assert.equal(statSync(file).mode & 0o7777, 0o640, 'the twin\'s mode, after the ACL')
    assert.deepEqual((await plan(ctx, twin)).changes, [], 'nothing left to do')
  })

  it('a content change with a new capability and a removed attribute is one write; the capability survives the owner change', async () => {
    const file = root.path('/usr/local/bin/tool')
    const { twin, manifest } = await snapshot(ctx)
    twin.set('filesystem/usr/local/bin/tool', '#!/bin/sh\necho tool 3\n')
    editEntry(twin, manifest, '/usr/local/bin/tool', (e) => {
      e.capabilities = 'cap_net_admin,cap_net_raw=ep'
      delete e.xattrs?.['user.origin']
      Object.assign(e, { owner: 'alice', uid: 1000 })
    })
    const { changes } = await plan(ctx, twin)
    assert.deepEqual(changes.map((c) => [c.id, c.risk]), [['files:replace:/usr/local/bin/tool', 'high']])
    assert.match(changes[0]?.summary ?? '', /remove user\.origin and capabilities cap_net_bind_service=ep → cap_net_admin,cap_net_raw=ep and owner root:root to alice:root/)
    const result = await provider.apply({ ctx, changes })
    assert.deepEqual(result.results.map((r) => r.status), ['applied'])
    assert.equal(readFileSync(file, 'utf8'), '#!/bin/sh\necho tool 3\n')
    assert.equal(capsOf(file), 'cap_net_admin,cap_net_raw=ep')
    assert.equal(userXattr(file, 'user.origin'), undefined)
    assert.ok(aclOf(file).includes('user:1000:r-x'), 'the ACL the twin keeps is kept')
    assert.equal(statSync(file).uid, 1000)
    assert.equal(statSync(file).mode & 0o7777, 0o4755, 'setuid kept through the owner change')
    assert.deepEqual((await plan(ctx, twin)).changes, [])
  })

  it('a chown alone keeps the file\'s capabilities (chown drops them in the kernel)', async () => {
    const file = root.path('/usr/local/bin/tool')
    const { twin, manifest } = await snapshot(ctx)
    editEntry(twin, manifest, '/usr/local/bin/tool', (e) => Object.assign(e, { group: 'webops', gid: 1234 }))
    const { changes } = await plan(ctx, twin)
    assert.deepEqual(changes.map((c) => c.id), ['files:chown:/usr/local/bin/tool'])
    assert.deepEqual((await provider.apply({ ctx, changes })).results.map((r) => r.status), ['applied'])
    assert.equal(statSync(file).gid, 1234)
    assert.equal(capsOf(file), 'cap_net_bind_service=ep')
    assert.equal(statSync(file).mode & 0o7777, 0o4755)
  })

  it('going back to a snapshot (a revert) puts back the capabilities, ACL and attributes the machine lost', async () => {
    const file = root.path('/usr/local/bin/tool')
    const { twin: checkpoint } = await snapshot(ctx)
    const aclBefore = aclOf(file)
    // What happened on the machine since: content edited in place, capability, ACL and note gone.
    tool('sh', '-c', `printf '#!/bin/sh\\necho edited\\n' > ${file}`)
    assert.equal(tool('getcap', file), '', 'a write in place drops the capability (the kernel does)')
    tool('setfacl', '-b', file)
    tool('setfattr', '-x', 'user.origin', file)
    const { changes, diagnostics } = await plan(ctx, checkpoint)
    assert.deepEqual(diagnostics.filter((d) => d.severity !== 'info'), [])
    assert.deepEqual(changes.map((c) => c.id), ['files:replace:/usr/local/bin/tool'])
    assert.deepEqual((await provider.apply({ ctx, changes })).results.map((r) => r.status), ['applied'])
    assert.equal(readFileSync(file, 'utf8'), '#!/bin/sh\necho tool\n')
    assert.equal(capsOf(file), 'cap_net_bind_service=ep')
    assert.deepEqual(aclOf(file), aclBefore)
    assert.equal(userXattr(file, 'user.origin'), 'built here')
    assert.deepEqual((await plan(ctx, checkpoint)).changes, [])
  })

  it('refuses a twin that sets trusted.* or a security label, with XATTR_REFUSED and the step to take; the machine is untouched', async () => {
    const { twin, manifest } = await snapshot(ctx)
    editEntry(twin, manifest, '/etc/hosts', (e) => (e.xattrs = { 'trusted.overlay.redirect': '0s' + Buffer.from('/etc/shadow').toString('base64') }))
    editEntry(twin, manifest, '/etc/motd', (e) => (e.xattrs = { 'security.selinux': '"system_u:object_r:shadow_t:s0"' }))
    twin.set('filesystem/etc/motd', 'changed too\n')
    const { changes, diagnostics } = await plan(ctx, twin)
    const refused = diagnostics.filter((d) => d.severity === 'error')
    assert.deepEqual(
      refused.map((d) => [d.code, d.path]),
      [
        ['XATTR_REFUSED', '/etc/hosts'],
        ['XATTR_REFUSED', '/etc/motd'],
      ],
    )
    assert.match(refused[0]?.summary ?? '', /the twin asks to set the extended attribute trusted\.overlay\.redirect, which TwinSync does not set: trusted\.\* attributes are the kernel's/)
    assert.match(refused[1]?.summary ?? '', /security labels belong to the security module/)
    assert.match(refused[0]?.detail ?? '', /Take trusted\.overlay\.redirect out of the entry of \/etc\/hosts in system\/files\/manifest\.json/)
    assert.deepEqual(changes, [], 'a refused path has no change at all, not even its content')
    assert.ok('XATTR_REFUSED' in ERROR_CODES, 'the plan is refused under this code (exit 2)')
    assert.equal(readFileSync(root.path('/etc/motd'), 'utf8'), 'Welcome, local edition\n')
  })

  it('refuses a malformed ACL or capability text, and carries a label the twin does not list over unchanged', async () => {
    const motd = root.path('/etc/motd')
    tool('setfattr', '-n', 'trusted.keep', '-v', 'machine', motd)
    const { twin, manifest } = await snapshot(ctx)
    assert.deepEqual(Object.keys(manifest.entries.find((e) => e.path === '/etc/motd')?.xattrs ?? {}), ['trusted.keep'])
    editEntry(twin, manifest, '/etc/hosts', (e) => (e.xattrs = { 'system.posix_acl_access': '0sAQID' }))
    editEntry(twin, manifest, '/etc/adduser.conf', (e) => (e.capabilities = '-r'))
    // The twin drops trusted.keep and changes the content: the label is not the twin's to remove.
    editEntry(twin, manifest, '/etc/motd', (e) => delete e.xattrs)
    twin.set('filesystem/etc/motd', 'new motd\n')
    const { changes, diagnostics } = await plan(ctx, twin)
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === 'error').map((d) => [d.path, d.summary.replace(/^.*cannot be set: /, '')]),
      [
        ['/etc/adduser.conf', 'not a capability text as getcap prints it (cap_net_raw=ep)'],
        ['/etc/hosts', 'not a POSIX ACL (getfattr -e base64 prints one as 0sAgAAAA…)'],
      ],
    )
    assert.deepEqual(changes.map((c) => c.id), ['files:replace:/etc/motd'])
    assert.deepEqual((await provider.apply({ ctx, changes })).results.map((r) => r.status), ['applied'])
    assert.equal(readFileSync(motd, 'utf8'), 'new motd\n')
    assert.equal(userXattr(motd, 'trusted.keep'), 'machine', 'carried over through the rewrite')
  })
})
