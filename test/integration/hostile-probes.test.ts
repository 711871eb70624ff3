// Session 20 probes of the write side: what a pulled twin asks for that a snapshot never writes
// (a fifo, a device, a socket, a hard link, a file bigger than limits.maxFileSize). In-process,
// through the services the CLI calls, real git, a hand-made root; the root checksummed.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Config as OclifConfig } from '@oclif/core'
import { silentLogger, type Plan } from '@twinsync/sdk'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { createContainer } from '../../core/src/container.js'
import type { DependencyContainer } from '../../core/src/di.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { StatusWorkflow } from '../../core/src/services/drift-status.js'

const noPlugins = { runHook: async () => ({ successes: [], failures: [] }) } as unknown as OclifConfig
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' }
const git = (dir: string, args: string[]) => execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8')

async function checksum(dir: string): Promise<string> {
  const lines: string[] = []
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = join(dir, rel, name)
      const s = await lstat(path)
      const what = s.isSymbolicLink() ? `link ${await readlink(path)}` : s.isDirectory() ? 'dir' : s.isFile() ? `file ${createHash('sha256').update(await readFile(path)).digest('hex')}` : 'other'
      lines.push(`${rel}/${name} ${s.mode.toString(8)} ${s.uid}:${s.gid} ${s.nlink} ${what}`)
      if (s.isDirectory()) await walk(join(rel, name))
    }
  }
  await walk('')
  return lines.join('\n')
}

describe('hostile twin probes: special files, hard links and oversized files a pulled twin asks for', function () {
  this.timeout(120_000)
  let dir: string
  let root: string
  let twin: string
  let initial: string
  let container: () => Promise<DependencyContainer>

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-probes-'))
    root = join(dir, 'root')
    twin = join(dir, 'twin')
    await mkdir(join(root, 'etc'), { recursive: true })
    await writeFile(join(root, 'etc/motd'), 'Welcome\n')
    await writeFile(join(root, 'etc/shadow'), 'root:*:1::::::\n', { mode: 0o640 })
    await writeFile(join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="13"\n')
    await mkdir(join(root, 'etc/cron.daily'))
    await writeFile(join(root, 'etc/cron.daily/backup'), '#!/bin/sh\ntar -C / -czf /srv/etc.tgz etc\n', { mode: 0o644 })
    await writeFile(join(root, 'etc/rc.local'), '#!/bin/sh\nexit 0\n', { mode: 0o644 })
    const configPath = join(dir, 'config.yaml')
    await writeFile(configPath, 'limits:\n  maxFileSize: 4096\nproviders:\n  disabled: [apt, systemd, cron, autostart, processes, logs, hardware, network]\n')
    container = () => createContainer({ root, repo: twin, configPath, oclif: noPlugins, logger: silentLogger })
    await (await container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
    initial = git(twin, ['rev-parse', 'HEAD']).trim()
  })
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    git(twin, ['reset', '--quiet', '--hard', initial])
    git(twin, ['clean', '--quiet', '-fdx'])
  })

  const manifestPath = () => join(twin, 'system/files/manifest.json')
  async function addEntry(entry: Record<string, unknown>): Promise<void> {
    const manifest = JSON.parse(await readFile(manifestPath(), 'utf8')) as { entries: Array<Record<string, unknown>> }
    manifest.entries.push(entry)
    manifest.entries.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1))
    await writeFile(manifestPath(), `${JSON.stringify(manifest, null, 2)}\n`)
    git(twin, ['commit', '--quiet', '-am', 'forged'])
  }
  async function outcome(): Promise<{ plan?: Plan; error?: string; applied?: unknown }> {
    let plan: Plan
    try {
      plan = await (await container()).resolve(PlanWorkflow).plan({})
    } catch (e) {
      return { error: (e as { code?: string }).code ?? String(e) }
    }
    const applied = await (await container()).resolve(ApplyService).apply({ plan, fromFile: false, acceptHighRisk: true, signal: new AbortController().signal }).then((r) => r.exitCode, (e: unknown) => (e as { code?: string }).code ?? String(e))
    return { plan, applied }
  }
  const owned = { owner: 'root', uid: 0, group: 'root', gid: 0 }

  for (const type of ['fifo', 'socket', 'block-device', 'character-device', 'hardlink']) {
    it(`a manifest entry of type "${type}" is refused with a coded error; nothing on the target changes`, async () => {
      const before = await checksum(root)
      await addEntry({ path: '/etc/odd', type, mode: '0644', ...owned, ...(type === 'hardlink' ? { target: '/etc/shadow' } : { major: 8, minor: 0 }) })
      const r = await outcome()
      const codes = r.error !== undefined ? [r.error] : (r.plan?.diagnostics ?? []).filter((d) => d.severity === 'error').map((d) => d.code)
      assert.ok(codes.length > 0 && codes.every((c) => /^[A-Z_]+$/.test(c)), JSON.stringify(r))
      assert.ok(!(r.plan?.changes ?? []).some((c) => c.resource === '/etc/odd'), JSON.stringify(r.plan?.changes))
      assert.equal(await checksum(root), before)
    })
  }

  // Session 21: a mode change alone that makes a script run (run-parts, rc.local) is high risk,
  // named, and needs to be accepted by name; before, a low-risk chmod applied with plain --yes.
  it('a chmod +x of an existing cron.daily script or rc.local is high risk with its reason; apply without accepting it changes nothing', async () => {
    const before = await checksum(root)
    const manifest = JSON.parse(await readFile(manifestPath(), 'utf8')) as { entries: Array<Record<string, unknown>> }
    for (const e of manifest.entries) if (e.path === '/etc/cron.daily/backup' || e.path === '/etc/rc.local') e.mode = '0755'
    for (const e of manifest.entries) if (e.path === '/etc/motd') e.mode = '0640'
    await writeFile(manifestPath(), `${JSON.stringify(manifest, null, 2)}\n`)
    git(twin, ['commit', '--quiet', '-am', 'chmod +x'])
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => [c.id, c.risk, c.riskReason]).sort(), [
      ['files:chmod:/etc/cron.daily/backup', 'high', 'made executable: run-parts runs it as root from cron'],
      ['files:chmod:/etc/motd', 'low', undefined],
      ['files:chmod:/etc/rc.local', 'high', 'made executable: systemd runs /etc/rc.local as root at boot once it is executable'],
    ])
    const refused = await (await container()).resolve(ApplyService).apply({ plan, fromFile: false, signal: new AbortController().signal }).then(() => 'applied', (e: unknown) => (e as { code?: string }).code)
    assert.equal(refused, 'HIGH_RISK_NOT_ACCEPTED')
    assert.equal(await checksum(root), before)
  })

  // Session 21: a file bigger than limits.maxFileSize (which a snapshot records and never copies)
  // that a pulled or edited twin asks for is left out of the plan, named, with a next step, and
  // stays pending in status; nothing is written. Before, it was a low-risk create, written whole.
  it('a pulled file bigger than limits.maxFileSize is left out, named, pending in status; a plan file that holds it is refused; nothing changes', async () => {
    const before = await checksum(root)
    await writeFile(join(twin, 'filesystem/etc/huge'), 'x'.repeat(64 * 1024))
    await writeFile(join(twin, 'filesystem/etc/motd'), 'y'.repeat(64 * 1024))
    git(twin, ['add', '-A'])
    git(twin, ['commit', '--quiet', '-m', 'huge'])
    const r = await outcome()
    assert.deepEqual(r.plan?.changes.map((c) => c.id), [])
    const left = (r.plan?.diagnostics ?? []).filter((d) => d.code === 'FILES_TOO_LARGE_NOT_PLANNED')
    assert.deepEqual(left.map((d) => [d.severity, d.change]).sort(), [['warning', 'files:create:/etc/huge'], ['warning', 'files:replace:/etc/motd']])
    for (const d of left) assert.match(d.summary, /65536 bytes, more than the 4096 bytes of maxFileSize/)
    for (const d of left) assert.match(d.detail ?? '', /raise limits\.maxFileSize/)
    assert.equal(r.applied, 0)
    assert.equal(await checksum(root), before)
    // Status (the intended twin read from git: ls-tree -l, never the blob) says both are pending, never applied, why and what to do.
    const status = await (await container()).resolve(StatusWorkflow).status(undefined)
    const items = status.pending.items.filter((i) => i.code === 'FILES_TOO_LARGE_NOT_PLANNED').map((i) => [i.id, /maxFileSize/.test(i.nextStep ?? ''), /^never applied/.test(i.reason)])
    assert.deepEqual(items.sort(), [['files:create:/etc/huge', true, true], ['files:replace:/etc/motd', true, true]], JSON.stringify(status.pending.items))
    // A plan file forged to write it: refused whole before anything runs.
    const plan = r.plan as Plan
    const text = 'x'.repeat(64 * 1024)
    const forged: Plan = { ...plan, changes: [{ id: 'files:create:/etc/huge', provider: 'files', category: 'files', operation: 'create', resource: '/etc/huge', summary: 'Create /etc/huge', risk: 'low', data: { action: 'write', path: '/etc/huge', text, sha256: createHash('sha256').update(text).digest('hex'), mode: 0o644, uid: 0, gid: 0 } }] }
    const refused = await (await container()).resolve(ApplyService).apply({ plan: forged, fromFile: true, acceptHighRisk: true, signal: new AbortController().signal }).then(() => 'applied', (e: unknown) => (e as { code?: string }).code)
    assert.equal(refused, 'PLAN_OUTSIDE_SCOPE')
    assert.equal(await checksum(root), before)
  })

  // Session 21: a document whose name is not UTF-8 (an edit of the working twin; a pull refuses
  // such names) was listed under a lossy decoding of its name, which names no file, and planned
  // as an empty file under that name.
  it('a document in the working twin whose name is not UTF-8 is left out, named; no empty file is written under a decoded name', async () => {
    const before = await checksum(root)
    await writeFile(Buffer.concat([Buffer.from(join(twin, 'filesystem/etc/')), Buffer.from([0x78, 0xff, 0xfe])]), 'content\n')
    const r = await outcome()
    assert.deepEqual(r.plan?.changes.map((c) => c.id), [])
    assert.deepEqual(r.plan?.diagnostics.filter((d) => d.severity !== 'info').map((d) => [d.code, d.path]), [['FILES_TWIN_NAME_UNREADABLE', '/etc/x\ufffd\ufffd']])
    assert.equal(await checksum(root), before)
  })

  it('a 200 MB document in the working twin is never read: left out, named; the rest of the files plan stands', async () => {
    const before = await checksum(root)
    // Sparse: no disk. Before session 21 the read refused it (TWIN_FILE_TOO_LARGE) and no file change was planned at all.
    execFileSync('truncate', ['-s', '200M', join(twin, 'filesystem/etc/huge')])
    await writeFile(join(twin, 'filesystem/etc/issue'), 'Debian\n')
    const plan = await (await container()).resolve(PlanWorkflow).plan({})
    assert.deepEqual(plan.changes.map((c) => c.id), ['files:create:/etc/issue'])
    assert.deepEqual(plan.diagnostics.filter((d) => d.severity !== 'info').map((d) => [d.code, d.change]), [['FILES_TOO_LARGE_NOT_PLANNED', 'files:create:/etc/huge']])
    assert.equal(await checksum(root), before)
  })
})
