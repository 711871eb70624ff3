import { strict as assert } from 'node:assert'
import { fileURLToPath } from 'node:url'
import type { Change, ExecAnswer, ProviderContext } from '@twinsync/sdk'
import { LocalHost, RecordingHost } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { AptProvider } from '../src/provider.js'
import { aptChangeId, type AptOperation } from '../src/change.js'

const FIXTURE_ROOT = fileURLToPath(new URL('./fixtures/root', import.meta.url))
const TRANSACTION = ['install', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold']

function change(operation: AptOperation, pkg: string, extra: Partial<Change> = {}, version?: string): Change {
  return {
    id: aptChangeId(operation, pkg),
    provider: 'apt',
    category: 'packages',
    operation,
    resource: pkg,
    summary: `${operation} ${pkg}`,
    risk: 'low',
    data: version === undefined ? { package: pkg } : { package: pkg, version },
    ...extra,
  }
}

/** A dry run over the fixture root: apt's programs are recorded, not run; `answer` says what they print. */
function dryRun(answer?: ExecAnswer, query?: ExecAnswer): RecordingHost {
  const host = new RecordingHost(new LocalHost(FIXTURE_ROOT), { ...(answer === undefined ? {} : { exec: answer }), ...(query === undefined ? {} : { query }) })
  ctx = createTestContext(FIXTURE_ROOT, { host })
  return host
}
let ctx: ProviderContext

describe('apt apply', () => {
  it('runs one apt-get transaction for every install and removal, inside the target, then marks and holds', async () => {
    const host = dryRun()
    const changes = [
      change('install', 'curl'),
      change('remove', 'dpkg'),
      change('install', 'nano'),
      change('mark-manual', 'libc6'),
      change('mark-auto', 'hello'),
      change('hold', 'curl', { requires: [aptChangeId('install', 'curl')] }),
      change('unhold', 'hello'),
    ]
    const { results } = await new AptProvider().apply({ changes, ctx })
    assert.deepEqual(host.commands(), [
      ['apt-mark', ['unhold', 'hello']],
      ['apt-get', [...TRANSACTION, 'curl', 'nano', 'dpkg-']],
      ['apt-mark', ['manual', 'libc6']],
      ['apt-mark', ['auto', 'hello']],
      ['apt-mark', ['hold', 'curl']],
    ])
    for (const action of host.actions) {
      assert.ok(action.kind === 'exec' && action.inTarget, JSON.stringify(action))
      assert.deepEqual(action.env, { DEBIAN_FRONTEND: 'noninteractive' })
    }
    assert.deepEqual(results.map((r) => r.status), ['applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied'])
  })

  it('refuses an invalid package name before anything runs', async () => {
    const host = dryRun()
    const changes = [change('install', 'nano'), change('install', 'hello; rm -rf /')]
    await assert.rejects(new AptProvider().apply({ changes, ctx }), { code: 'NAME_INVALID', message: /hello; rm -rf \// })
    assert.deepEqual(host.actions, [])
  })

  it('refuses an invalid version before anything runs', async () => {
    const host = dryRun()
    await assert.rejects(new AptProvider().apply({ changes: [change('install', 'nano', {}, '1.0 || reboot')], ctx }), { code: 'NAME_INVALID' })
    assert.deepEqual(host.actions, [])
  })

  it('checks a pinned version in the archive first and fails only that change when it is missing', async () => {
    // apt-cache only reads: a query, answered here as the archive would.
    const host = dryRun(undefined, (command, args) =>
      command === 'apt-cache' && args[1] === 'nano'
        ? { stdout: '      nano |    7.2-1+deb12u1 | http://mirror/debian bookworm/main amd64 Packages\n' }
        : command === 'apt-cache' ? { stdout: '     curl | 7.88.1-10+deb12u12 | http://mirror/debian bookworm/main amd64 Packages\n' } : {},
    )
    const changes = [change('install', 'nano', {}, '7.2-1+deb12u1'), change('install', 'curl', {}, '9.9-1'), change('hold', 'curl', { requires: ['apt:install:curl'] })]
    const { results } = await new AptProvider().apply({ changes, ctx })
    assert.deepEqual(host.queries, [
      ['apt-cache', ['madison', 'nano']],
      ['apt-cache', ['madison', 'curl']],
    ])
    assert.deepEqual(host.commands(), [['apt-get', [...TRANSACTION, '--allow-downgrades', 'nano=7.2-1+deb12u1']]])
    assert.deepEqual(results.map((r) => r.status), ['applied', 'failed', 'skipped'])
    assert.match(results[1]?.message ?? '', /curl 9\.9-1 is not in the archive: apt-cache madison lists only 7\.88\.1-10\+deb12u12/)
  })

  it('turns a held dpkg lock into a LOCK_HELD error naming the lock', async () => {
    dryRun((command) =>
      command === 'apt-get'
        ? { exitCode: 100, stderr: 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n' }
        : {},
    )
    await assert.rejects(new AptProvider().apply({ changes: [change('install', 'nano')], ctx }), (error: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(error.code, 'LOCK_HELD')
      assert.match(error.message, /\/var\/lib\/dpkg\/lock-frontend is held by process 4242 \(apt-get\)/)
      assert.deepEqual(error.details, { lock: '/var/lib/dpkg/lock-frontend', pid: 4242 })
      return true
    })
  })

  it('reports a failed transaction on each of its changes with the output tail', async () => {
    dryRun(() => ({ exitCode: 100, stderr: 'E: Unable to locate package nano\n' }))
    const { results } = await new AptProvider().apply({ changes: [change('install', 'nano'), change('remove', 'dpkg')], ctx })
    assert.deepEqual(results.map((r) => r.status), ['failed', 'failed'])
    assert.match(results[0]?.message ?? '', /apt-get update/)
    assert.equal(results[0]?.outputTail, 'E: Unable to locate package nano')
  })

  it('is idempotent: changes already live are unchanged and run nothing', async () => {
    const host = dryRun()
    const changes = [change('install', 'hello'), change('remove', 'nano'), change('hold', 'hello'), change('mark-auto', 'libc6'), change('unhold', 'dpkg')]
    const { results } = await new AptProvider().apply({ changes, ctx })
    assert.deepEqual(host.actions, [])
    assert.deepEqual(results.map((r) => r.status), ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged'])
  })

  describe('a plan that changed where apt finds packages (changedNeeds)', () => {
    const SCOPED = (file: string) => ['update', '-q', '-o', `Dir::Etc::sourcelist=${file}`, '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0']
    const NEW_LIST = '/etc/apt/sources.list.d/vendor.list'
    const NEW_SOURCES = '/etc/apt/sources.list.d/other.sources'
    const FETCH_FAILED = 'W: Failed to fetch http://127.0.0.1:9/debian/./InRelease  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)\nW: Some index files failed to download. They have been ignored, or old ones used instead.\n'

    it('reads each new sources file alone into the lists, once, before the one transaction', async () => {
      const host = dryRun()
      // The files step of the same apply wrote them (the dry run reads its own writes back).
      await host.writeFileAtomic(NEW_LIST, 'deb [trusted=yes] http://127.0.0.1:9/debian ./\n')
      await host.writeFileAtomic(NEW_SOURCES, 'Types: deb\n')
      host.actions.length = 0
      const changes = [change('install', 'curl'), change('install', 'nano'), change('install', 'less')]
      const changedNeeds = { 'apt:install:curl': [NEW_LIST], 'apt:install:nano': [NEW_LIST, NEW_SOURCES] }
      const { results } = await new AptProvider().apply({ changes, ctx, changedNeeds })
      assert.deepEqual(host.commands(), [
        ['apt-get', SCOPED(NEW_SOURCES)],
        ['apt-get', SCOPED(NEW_LIST)],
        ['apt-get', [...TRANSACTION, 'curl', 'nano', 'less']],
      ])
      assert.deepEqual(results.map((r) => r.status), ['applied', 'applied', 'applied'])
    })

    it('refreshes everything once when only a key changed, and nothing for pins or a removed sources file', async () => {
      let host = dryRun()
      await new AptProvider().apply({ changes: [change('install', 'curl')], ctx, changedNeeds: { 'apt:install:curl': ['/etc/apt/keyrings/vendor.asc'] } })
      assert.deepEqual(host.commands()[0], ['apt-get', ['update', '-q']])
      assert.equal(host.commands().length, 2)
      host = dryRun()
      await new AptProvider().apply({ changes: [change('install', 'curl')], ctx, changedNeeds: { 'apt:install:curl': ['/etc/apt/preferences.d/vendor', NEW_LIST] } })
      assert.deepEqual(host.commands(), [['apt-get', [...TRANSACTION, 'curl']]], 'a preference is read at every run; the sources file is not there (removed)')
    })

    it("fails only the installs whose repository apt could not read, with apt's words and NEED_UNUSABLE; the rest installs", async () => {
      const host = dryRun((command, args) => (command === 'apt-get' && args[0] === 'update' ? { exitCode: 0, stderr: FETCH_FAILED } : {}))
      await host.writeFileAtomic(NEW_LIST, 'deb [trusted=yes] http://127.0.0.1:9/debian ./\n')
      host.actions.length = 0
      const changes = [change('install', 'vendor-tool'), change('install', 'less'), change('hold', 'vendor-tool', { requires: ['apt:install:vendor-tool'] })]
      const { results } = await new AptProvider().apply({ changes, ctx, changedNeeds: { 'apt:install:vendor-tool': [NEW_LIST] } })
      assert.deepEqual(host.commands(), [['apt-get', SCOPED(NEW_LIST)], ['apt-get', [...TRANSACTION, 'less']]])
      const [vendor, less, hold] = results
      assert.equal(vendor?.status, 'failed')
      assert.equal(
        vendor?.message,
        `apt could not read the repository of ${NEW_LIST} (apt-get update: W: Failed to fetch http://127.0.0.1:9/debian/./InRelease  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused) W: Some index files failed to download. They have been ignored, or old ones used instead.); nothing was installed for it`,
      )
      assert.match(vendor?.outputTail ?? '', /^W: Failed to fetch/)
      assert.deepEqual(vendor?.diagnostics?.map((d) => [d.severity, d.code, d.path, d.change]), [['error', 'NEED_UNUSABLE', NEW_LIST, 'apt:install:vendor-tool']])
      assert.equal(less?.status, 'applied')
      assert.equal(hold?.status, 'skipped')
    })
  })
})
