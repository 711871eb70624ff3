// The twin's crontabs are capped (MAX_CRON_LINES in src/load.ts, with its figures): load refuses more
// unread (TWIN_INVALID naming the count and the limit), overLimit (a pull) answers by the same count,
// and a machine's crontab of any length is built without a spread's RangeError (session 38: 400,000
// pulled jobs ended every plan in "Maximum call stack size exceeded").
import { strict as assert } from 'node:assert'
import { bareTwinsyncLine, MemoryTwin, type ProviderContext } from '@twinsync/sdk'
import { CronProvider } from '../src/index.js'
import { MAX_CRON_LINES, loadCron } from '../src/load.js'
import { buildCronState } from '../src/model.js'

const ROOT = 'filesystem/var/spool/cron/crontabs/root'
const CRON_D = 'filesystem/etc/cron.d/made-up'
const lines = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => `${line(i)}\n`).join('')
const ctx = {} as ProviderContext

describe('the twin\'s crontabs over MAX_CRON_LINES', function () {
  this.timeout(30_000)

  it('at the limit they load; one line more (a user crontab and a cron.d file together) is TWIN_INVALID unread, and overLimit says the same', async () => {
    const provider = new CronProvider()
    const at = new MemoryTwin([
      { path: ROOT, content: lines(MAX_CRON_LINES - 10, (i) => `# note ${i}`) },
      { path: CRON_D, content: lines(10, (i) => `${i} * * * * root /bin/true`) },
    ])
    const loaded = await provider.load({ twin: at, ctx })
    assert.deepEqual([loaded.state?.jobs.length, loaded.diagnostics], [10, []])
    assert.deepEqual(await provider.overLimit({ twin: at, ctx }), [])
    const over = new MemoryTwin([
      { path: ROOT, content: lines(MAX_CRON_LINES - 10, (i) => `# note ${i}`) },
      { path: CRON_D, content: lines(11, (i) => `${i} * * * * root /bin/true`) },
    ])
    const refused = await provider.load({ twin: over, ctx })
    assert.equal(refused.state, undefined)
    assert.deepEqual(refused.diagnostics.map((d) => [d.severity, d.code, d.path, d.provider]), [['error', 'TWIN_INVALID', ROOT, 'cron']])
    assert.match(refused.diagnostics[0]?.summary ?? '', /^The twin's crontabs hold 50,001 lines \(filesystem\/var\/spool\/cron\/crontabs\/root: 49,990\), more than the 50,000 TwinSync takes; they were not read$/)
    assert.match(refused.diagnostics[0]?.detail ?? '', /^Nothing is planned for cron\. .*`twinsync discard startup`/)
    assert.deepEqual(await provider.overLimit({ twin: over, ctx }), refused.diagnostics)
  })

  it('a user crontab that is the text collect just made is not counted (the machine\'s own)', async () => {
    const twin = new MemoryTwin([{ path: ROOT, content: lines(MAX_CRON_LINES + 1, (i) => `# note ${i}`) }])
    await assert.rejects(loadCron(twin, { line: bareTwinsyncLine }), /50,001 lines/)
    assert.equal((await loadCron(twin, { made: (path) => path === ROOT, line: bareTwinsyncLine }))?.crontabs.length, 1)
  })

  it('a machine\'s crontab of 130,000 lines is built, no RangeError (no push of a spread)', () => {
    const state = buildCronState([{ user: 'root', path: '/var/spool/cron/crontabs/root', content: lines(130_000, (i) => `V${i}=1`) }], [], [])
    assert.equal(state.environment.length, 130_000)
  })
})
