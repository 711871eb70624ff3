import { strict as assert } from 'node:assert'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, run, type Rootfs } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'
import { describePackageChange } from '../../core/src/services/apt-hook.js'
import { TwinLock } from '../../core/src/twin/twin-lock.js'

describe('the apt hook command', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const hook = (phase: string) => cli.twinsync(['apt-hook', phase, '--root', rootfs.dir, '--repo', cli.twinDir])
  const count = async () => (await run(['git', '-C', cli.twinDir, 'rev-list', '--count', 'HEAD'])).stdout.trim()

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    const r = await cli.twinsync(['snapshot', '--init', '--root', rootfs.dir, '--repo', cli.twinDir])
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('names the package operation from the package lists', () => {
    const m = (o: Record<string, string>) => new Map(Object.entries(o))
    assert.equal(describePackageChange(m({ nano: '7', libc6: '2.36' }), m({ hello: '2.10', libc6: '2.37' })), 'install hello, remove nano, upgrade libc6')
    assert.equal(describePackageChange(m({ a: '1' }), m({ a: '1' })), undefined)
    const many = m(Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((p) => [p, '1'])))
    assert.equal(describePackageChange(new Map(), many), 'install 6 packages (a b c …)')
  })

  it('another snapshot holding the lock: skips, says so in one line, exits 0, commits nothing', async () => {
    const before = await count()
    const lock = new TwinLock(join(cli.twinDir, '.git', 'twinsync', 'lock'))
    await lock.acquire('test holds the twin')
    try {
      for (const phase of ['pre', 'post']) {
        const r = await hook(phase)
        assert.equal(r.code, 0, r.stderr)
        assert.equal(r.stderr.trim(), `twinsync: another snapshot is running; skipped the ${phase}-apt snapshot`)
      }
    } finally {
      await lock.release()
    }
    assert.equal(await count(), before)
  })

  it('a missing twin: one line, exit 0', async () => {
    const r = await cli.twinsync(['apt-hook', 'post', '--root', rootfs.dir, '--repo', join(cli.dir, 'no-twin-here')])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^twinsync: no post-apt snapshot: \[REPO_NOT_INITIALIZED\] There is no twin at .*\n$/)
  })
})
