// The small reads every `plan` and `status` makes of the twin's .git (the record of an apply's
// unfinished checks, HEAD's branch) are synchronous: an awaited read of `node:fs/promises` starts
// libuv's thread pool (four threads) for one open (issue 22, session 16). Counted through
// async_hooks: an fs request through the thread pool is an FSREQPROMISE (or FSREQCALLBACK,
// FILEHANDLE) resource.
import { strict as assert } from 'node:assert'
import { createHook } from 'node:async_hooks'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PENDING_CHECKS, PendingChecks } from '../src/apply/pending-checks.js'
import { twinsyncLine } from '../src/plan/command-text.js'
import { twinBranches } from '../src/intent/intent-git.js'

/** The asynchronous fs requests made while `call` runs (and its promise settles). */
async function fsRequestsOf<T>(call: () => Promise<T>): Promise<{ value: T; requests: string[] }> {
  const requests: string[] = []
  const hook = createHook({
    init(_id, type) {
      if (/^FSREQ|^FILEHANDLE/.test(type)) requests.push(type)
    },
  })
  hook.enable()
  try {
    return { value: await call(), requests }
  } finally {
    hook.disable()
  }
}

describe("plan's and status's small reads of the twin's .git: no fs request through the thread pool", () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-sync-reads-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('the record of unfinished config checks, absent and present, is read without one', async () => {
    const pending = new PendingChecks({ dir, source: 'flag' }, { line: (args) => twinsyncLine(args, { root: '/' }) })
    const absent = await fsRequestsOf(() => pending.read())
    assert.deepEqual(absent.value, [])
    assert.deepEqual(absent.requests, [])

    mkdirSync(join(dir, '.git', 'twinsync'), { recursive: true })
    const entry = { service: 'nginx', root: '/', files: [] }
    writeFileSync(join(dir, PENDING_CHECKS), JSON.stringify({ version: 1, pending: [entry] }) + '\n')
    const present = await fsRequestsOf(() => pending.read())
    assert.deepEqual(present.value, [entry])
    assert.deepEqual(present.requests, [])

    // A damaged record is still refused, as before.
    writeFileSync(join(dir, PENDING_CHECKS), 'not json')
    await assert.rejects(pending.read(), (error: Error & { code?: string }) => error.code === 'REPO_INVALID')
  })

  it("the twin's branch (one branch: no git) is read without one", async () => {
    execFileSync('git', ['init', '-q', '-b', 'main', dir], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } })
    const { value, requests } = await fsRequestsOf(() => twinBranches(dir))
    assert.deepEqual(value, { current: 'main', unread: [] })
    assert.deepEqual(requests, [])
  })
})
