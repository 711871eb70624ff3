import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, type Container } from '../bed/index.js'

const TWIN = '/var/lib/twinsync/twin'
const HBA = '/etc/postgresql/17/main/pg_hba.conf'
const CONF = '/etc/postgresql/17/main/postgresql.conf'

interface Step {
  id: string
  status: string
  message?: string
  outputTail?: string
}

/**
 * postgresql's configuration checked by its own server before it is live, on a booted server
 * where the cluster really runs: postgresql.conf by `postgres -C` (as postgres, on the cluster's
 * folder), pg_hba.conf by the running server's pg_hba_file_rules view, which reads the file on
 * disk. A reload with a broken pg_hba.conf does not fail (postgres logs it and keeps the old
 * rules), so without the check the broken file would stay live until the next restart fails.
 */
describe('postgresql configuration checked by the running cluster (booted server)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container
  const sha = async (path: string) => (await ct.runOk(['sha256sum', path])).stdout.split(' ')[0]
  const query = () => ct.run(['runuser', '-u', 'postgres', '--', 'psql', '-XAtqc', 'select 42'])
  const apply = async () => {
    const r = await ct.twinsync(['apply', '--yes', '--json'], { timeoutMs: 600_000 })
    const steps = new Map((JSON.parse(r.stdout) as { journal?: { steps: Step[] } }).journal?.steps.map((s) => [s.id, s]) ?? [])
    return { code: r.code, steps, out: r.stdout + r.stderr }
  }

  before(async () => {
    ct = await bootContainer({ image: 'server' })
    const deadline = Date.now() + 60_000
    while ((await query()).stdout.trim() !== '42') {
      assert.ok(Date.now() < deadline, 'postgresql never answered')
      await new Promise((r) => setTimeout(r, 250))
    }
    const snap = await ct.twinsync(['snapshot', '--init', '--json'], { timeoutMs: 300_000 })
    assert.equal(snap.code, 0, snap.stderr)
  })
  after(async () => {
    await ct?.close()
  })

  it('refuses a broken pg_hba.conf line and a bad postgresql.conf value with the server\'s own words; both files unchanged, the cluster answers', async () => {
    const hba = await ct.readFile(HBA)
    const conf = await ct.readFile(CONF)
    const before = [await sha(HBA), await sha(CONF)]
    await ct.writeFile(`${TWIN}/filesystem${HBA}`, `${hba}host all all 10.0.0.0/33 trust\n`)
    await ct.writeFile(`${TWIN}/filesystem${CONF}`, `${conf}work_mem = plenty\n`)
    const { code, steps, out } = await apply()
    assert.equal(code, 1, out)
    for (const path of [HBA, CONF]) {
      const step = steps.get(`files:replace:${path}`)
      assert.equal(step?.status, 'failed', out)
      assert.match(step?.message ?? '', /rejects the new postgresql configuration; the previous files are back; postgresql\.service left alone/)
    }
    // postgres -C stops at postgresql.conf; fixed, the running server's view judges pg_hba.conf.
    assert.match(steps.get(`files:replace:${CONF}`)?.outputTail ?? '', /invalid value for parameter "work_mem": "plenty"/)
    assert.deepEqual([await sha(HBA), await sha(CONF)], before)

    await ct.writeFile(`${TWIN}/filesystem${CONF}`, conf)
    const second = await apply()
    assert.equal(second.code, 1, second.out)
    const step = second.steps.get(`files:replace:${HBA}`)
    assert.equal(step?.status, 'failed', second.out)
    assert.match(step?.outputTail ?? '', /pg_hba\.conf line \d+: invalid CIDR mask in address "10\.0\.0\.0\/33"/)
    assert.equal(await sha(HBA), before[0])
    assert.equal((await query()).stdout.trim(), '42')
    assert.equal((await ct.run(['systemctl', 'is-active', 'postgresql@17-main.service'])).stdout.trim(), 'active')
  })

  it('passes a good pg_hba.conf line through the running server\'s check and reloads postgresql', async () => {
    await ct.writeFile(`${TWIN}/filesystem${HBA}`, `${await ct.readFile(HBA)}host all all 10.0.0.0/24 scram-sha-256\n`)
    const { code, steps, out } = await apply()
    assert.equal(code, 0, out)
    assert.match(steps.get(`files:replace:${HBA}`)?.message ?? '', /checked: `postgres -C data_directory on the cluster of \/etc\/postgresql\/17\/main\/pg_hba\.conf/)
    const rule = await ct.run(['runuser', '-u', 'postgres', '--', 'psql', '-XAtqc', "select count(*) from pg_hba_file_rules where address = '10.0.0.0'"])
    assert.equal(rule.stdout.trim(), '1')
    assert.equal((await query()).stdout.trim(), '42')
  })
})
