import { strict as assert } from 'node:assert'
import { fileURLToPath } from 'node:url'
import sinon from 'sinon'
import type { Change, ExecOptions, ExecResult, ProviderContext } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { AptProvider } from '../src/apt-provider.js'
import { aptChangeId, type AptOperation } from '../src/package-change.js'

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

type Answer = Partial<ExecResult>
function stubExec(ctx: ProviderContext, answer: (command: string, args: readonly string[]) => Answer = () => ({})) {
  return sinon.stub(ctx.host, 'exec').callsFake(async (command: string, args: readonly string[], _options?: ExecOptions) => ({
    command, args: [...args], exitCode: 0, stdout: '', stderr: '', timedOut: false, ...answer(command, args),
  }))
}
const calls = (exec: sinon.SinonStub) => exec.getCalls().map((c) => [c.args[0], c.args[1]])

describe('apt apply', () => {
  let ctx: ProviderContext
  beforeEach(() => {
    ctx = createTestContext(FIXTURE_ROOT)
  })
  afterEach(() => sinon.restore())

  it('runs one apt-get transaction for every install and removal, inside the target, then marks and holds', async () => {
    const exec = stubExec(ctx)
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
    assert.deepEqual(calls(exec), [
      ['apt-mark', ['unhold', 'hello']],
      ['apt-get', [...TRANSACTION, 'curl', 'nano', 'dpkg-']],
      ['apt-mark', ['manual', 'libc6']],
      ['apt-mark', ['auto', 'hello']],
      ['apt-mark', ['hold', 'curl']],
    ])
    for (const call of exec.getCalls()) {
      assert.equal(call.args[2]?.inTarget, true)
      assert.deepEqual(call.args[2]?.env, { DEBIAN_FRONTEND: 'noninteractive' })
    }
    assert.deepEqual(results.map((r) => r.status), ['applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied'])
  })

  it('refuses an invalid package name before anything runs', async () => {
    const exec = stubExec(ctx)
    const changes = [change('install', 'nano'), change('install', 'hello; rm -rf /')]
    await assert.rejects(new AptProvider().apply({ changes, ctx }), { code: 'NAME_INVALID', message: /hello; rm -rf \// })
    assert.equal(exec.callCount, 0)
  })

  it('refuses an invalid version before anything runs', async () => {
    const exec = stubExec(ctx)
    await assert.rejects(new AptProvider().apply({ changes: [change('install', 'nano', {}, '1.0 || reboot')], ctx }), { code: 'NAME_INVALID' })
    assert.equal(exec.callCount, 0)
  })

  it('checks a pinned version in the archive first and fails only that change when it is missing', async () => {
    const exec = stubExec(ctx, (command, args) =>
      command === 'apt-cache' && args[1] === 'nano'
        ? { stdout: '      nano |    7.2-1+deb12u1 | http://mirror/debian bookworm/main amd64 Packages\n' }
        : command === 'apt-cache' ? { stdout: '     curl | 7.88.1-10+deb12u12 | http://mirror/debian bookworm/main amd64 Packages\n' } : {},
    )
    const changes = [change('install', 'nano', {}, '7.2-1+deb12u1'), change('install', 'curl', {}, '9.9-1'), change('hold', 'curl', { requires: ['apt:install:curl'] })]
    const { results } = await new AptProvider().apply({ changes, ctx })
    assert.deepEqual(calls(exec), [
      ['apt-cache', ['madison', 'nano']],
      ['apt-cache', ['madison', 'curl']],
      ['apt-get', [...TRANSACTION, '--allow-downgrades', 'nano=7.2-1+deb12u1']],
    ])
    assert.deepEqual(results.map((r) => r.status), ['applied', 'failed', 'skipped'])
    assert.match(results[1]?.message ?? '', /curl 9\.9-1 is not in the archive: apt-cache madison lists only 7\.88\.1-10\+deb12u12/)
  })

  it('turns a held dpkg lock into a LOCK_HELD error naming the lock', async () => {
    stubExec(ctx, (command) =>
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
    stubExec(ctx, () => ({ exitCode: 100, stderr: 'E: Unable to locate package nano\n' }))
    const { results } = await new AptProvider().apply({ changes: [change('install', 'nano'), change('remove', 'dpkg')], ctx })
    assert.deepEqual(results.map((r) => r.status), ['failed', 'failed'])
    assert.match(results[0]?.message ?? '', /apt-get update/)
    assert.equal(results[0]?.outputTail, 'E: Unable to locate package nano')
  })

  it('is idempotent: changes already live are unchanged and run nothing', async () => {
    const exec = stubExec(ctx)
    const changes = [change('install', 'hello'), change('remove', 'nano'), change('hold', 'hello'), change('mark-auto', 'libc6'), change('unhold', 'dpkg')]
    const { results } = await new AptProvider().apply({ changes, ctx })
    assert.equal(exec.callCount, 0)
    assert.deepEqual(results.map((r) => r.status), ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged'])
  })
})
