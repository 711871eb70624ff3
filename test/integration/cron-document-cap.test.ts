// The twin's crontabs over MAX_CRON_LINES (plugins/cron/src/load.ts), through the real binary on
// the test bed's root (session 38). Before, a crontab of 400,000 jobs (12 MB: a crontab is the cron
// provider's, so the files provider's maxFileSize does not hold it) ended every plan and status in
// "The cron provider failed in load(): Maximum call stack size exceeded" after 15 s, said as a
// fault of the provider, and a pull took such a mirror in. Now plan, status and apply refuse it
// (TWIN_INVALID naming the count and the limit, the next step; apply exits 2), nothing changed,
// `discard startup` puts the twin back; a pull refuses such a mirror whole (TWIN_UNSAFE, exit 2).
// The count is of every crontab cron reads: the root's /etc/crontab adds its own lines.
import { strict as assert } from 'node:assert'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_CRON_LINES } from '../../plugins/cron/src/load.js'
import { useCliRoot } from '../support/cli.js'
import { checksum, git } from '../support/in-process-twin.js'
import { pullRefused, refusedBeforePlanned, said } from '../support/document-cap.js'

const CRONTAB = 'filesystem/var/spool/cron/crontabs/root'
const jobs = (n: number) => Array.from({ length: n }, (_, i) => `${i % 60} * * * * /bin/true ${i}\n`).join('')

describe('crontabs over MAX_CRON_LINES: refused before they are planned, and by a pull', function () {
  this.timeout(300_000)
  const root = useCliRoot()
  const refusal = /The twin's crontabs hold 50,0\d\d lines \(filesystem\/var\/spool\/cron\/crontabs\/root: 50,001\), more than the 50,000 TwinSync takes; they were not read/

  it(`a root crontab of ${(MAX_CRON_LINES + 1).toLocaleString('en')} jobs: plan, status and apply refuse it (TWIN_INVALID), nothing changed; discard startup puts the twin back`, async () => {
    const { twinDir, twinsync } = root()
    await mkdir(join(twinDir, CRONTAB, '..'), { recursive: true })
    await writeFile(join(twinDir, CRONTAB), jobs(MAX_CRON_LINES + 1))
    const state = async () => `${git(twinDir, ['rev-parse', 'HEAD'])}${git(twinDir, ['status', '--porcelain', '--untracked-files=all'])}${await checksum(join(root().rootfs.dir, 'var/spool/cron'))}`
    await refusedBeforePlanned(twinsync, refusal, /\[TWIN_INVALID\]\n\s+Nothing is planned for cron\. .*`twinsync discard startup --root [^`]+`/, state, 'no commit, the working twin and the spool unchanged')
    const discard = await twinsync('discard', 'startup')
    assert.equal(discard.code, 0, said(discard))
    assert.equal(git(twinDir, ['status', '--porcelain', '--untracked-files=all']), '', 'the crontab is out of the twin again')
  })

  it(`a pull of a mirror whose root crontab holds ${(MAX_CRON_LINES + 1).toLocaleString('en')} jobs is TWIN_UNSAFE (exit 2) before the working twin moves`, async () => {
    const { twinDir, twinsync, cli } = root()
    await pullRefused(
      twinDir,
      twinsync,
      cli.dir,
      async (clone) => {
        await mkdir(join(clone, CRONTAB, '..'), { recursive: true })
        await writeFile(join(clone, CRONTAB), jobs(MAX_CRON_LINES + 1))
      },
      'a mirror brings a crontab of 50,001 jobs',
      /\[TWIN_UNSAFE\] Not pulled: the mirror's twin at [0-9a-f]{12}: The twin's crontabs hold 50,0\d\d lines \(filesystem\/var\/spool\/cron\/crontabs\/root: 50,001\), more than the 50,000 TwinSync takes/,
    )
  })
})
