// The twin repository's size after many hourly snapshots with typical churn, against its size
// after the first. It runs in a booted container of the services root, so the churn is real:
// each "hour" a config setting and one of a few drop-in files change, 20 lines reach the
// journal through logger, and the process list (pids, CPU, memory) moves on by itself. Each
// snapshot is what the timer of `twinsync schedule enable` runs: `snapshot --if-changed`.
//
// BENCH_SNAPSHOTS sets how many (default 1,000, about a second or two each); BENCH_QUICK=1 30.
import { bootContainer, type Container } from '../../bed/index.js'
import { median } from '../measure.js'
import { row, type BenchRow, type Goal } from '../report.js'
import type { BenchContext, BenchSection } from '../sections.js'

const TWIN = '/var/lib/twinsync-bench/twin'
const CONFIG = '/root/twinsync-bench.yaml'

const CHURN = `set -e
i=$1
printf 'setting = %s\\n' "$i" > /etc/twinsync-bench.conf
mkdir -p /etc/twinsync-bench.d
printf '# written in hour %s\\nvalue = %s\\n' "$i" "$((i * 7919 % 1000))" > "/etc/twinsync-bench.d/rotating-$((i % 5)).conf"
k=0
while [ $k -lt 20 ]; do
  logger -t bench-cron "hour $i line $k: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"
  k=$((k + 1))
done`

export const growthSection: BenchSection = {
  name: 'growth',
  describe: 'twin repository size after BENCH_SNAPSHOTS hourly snapshots with typical churn (booted services container)',
  run: async (ctx: BenchContext): Promise<BenchRow[]> => {
    const total = ctx.snapshots
    ctx.progress(`growth: booting the services root`)
    const ct = await bootContainer({ image: 'server' })
    try {
      await ct.writeFile(CONFIG, '{}\n')
      const snapshot = async (args: string[]): Promise<{ ms: number; commit: boolean }> => {
        const started = performance.now()
        const r = await ct.twinsync(['snapshot', '--repo', TWIN, '--config', CONFIG, '--json', ...args], { timeoutMs: 600_000 })
        const ms = performance.now() - started
        if (r.code !== 0) throw new Error(`snapshot failed (exit ${r.code}): ${r.stderr}`)
        return { ms, commit: (JSON.parse(r.stdout) as { commit?: string }).commit !== undefined }
      }
      await ct.runOk(['sh', '-c', CHURN, 'sh', '0'])
      const first = await snapshot(['--init'])
      const firstKb = (await repoKb(ct)).repo
      const times: number[] = []
      let commits = 1
      const curve: Array<{ snapshots: number; kb: number }> = [{ snapshots: 1, kb: firstKb }]
      ctx.progress(`growth: ${total} snapshots, each after an hour's churn (progress every 50)`)
      for (let i = 1; i < total; i++) {
        await ct.runOk(['sh', '-c', CHURN, 'sh', String(i)])
        const s = await snapshot(['--if-changed'])
        times.push(s.ms)
        if (s.commit) commits++
        if ((i + 1) % 50 === 0 || i + 1 === total) {
          curve.push({ snapshots: i + 1, kb: (await repoKb(ct)).repo })
          ctx.progress(`growth: ${i + 1}/${total}, .git ${((curve.at(-1)?.kb ?? 0) / 1024).toFixed(1)} MB, median ${Math.round(median(times))} ms a snapshot`)
        }
      }
      const after = await repoKb(ct)
      const afterKb = after.repo
      const gc = await ct.twinsync(['gc', '--repo', TWIN, '--config', CONFIG, '--json'], { timeoutMs: 600_000 })
      const afterGc = gc.code === 0 ? (JSON.parse(gc.stdout) as { sizeAfter?: number }).sizeAfter : undefined
      const gcKb = (await repoKb(ct)).repo
      const growth = afterKb / firstKb
      const twice: Goal = { text: '≤ 2× the first one', met: () => growth <= 2 }
      ctx.note(`Repository growth: .git less TwinSync's provider caches (${after.cache} KB), measured with du -sk inside the container, after 1, every 50 and ${total} snapshots: ${curve.map((p) => `${p.snapshots}: ${(p.kb / 1024).toFixed(1)} MB`).join(', ')}.`)
      return [
        row('growth', `twin repository after the first snapshot (services, booted)`, { unit: 'KB', twinsync: firstKb, note: `first snapshot took ${Math.round(first.ms)} ms` }),
        row('growth', `twin repository after ${total} hourly snapshots with churn (${commits} commits)`, {
          unit: 'KB',
          twinsync: afterKb,
          goal: twice,
          note: `${growth.toFixed(2)}× the first one`,
        }),
        row('growth', `  the same after twinsync gc`, {
          unit: 'KB',
          twinsync: gcKb,
          note: `${(gcKb / firstKb).toFixed(2)}× the first one${afterGc === undefined ? '' : `; gc reports ${(afterGc / 1024).toFixed(0)} KB of objects`}`,
        }),
        row('growth', `time per snapshot --if-changed during the run (median of ${times.length})`, { twinsync: median(times), runs: times.length }),
      ]
    } finally {
      await ct.close()
    }
  },
}

/**
 * The twin repository's size in KB: .git as du counts it, less TwinSync's provider caches
 * (.git/twinsync/cache: stat and package indexes, which do not grow with history).
 */
async function repoKb(ct: Container): Promise<{ repo: number; cache: number }> {
  const kb = async (path: string) => Number((await ct.runOk(['du', '-sk', path])).stdout.split('\t')[0])
  const cache = await kb(`${TWIN}/.git/twinsync/cache`)
  return { repo: (await kb(`${TWIN}/.git`)) - cache, cache }
}
