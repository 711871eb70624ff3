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
      const snapshot = async (args: string[]): Promise<{ ms: number; commit: boolean; packed?: Packed }> => {
        const started = performance.now()
        const r = await ct.twinsync(['snapshot', '--repo', TWIN, '--config', CONFIG, '--json', ...args], { timeoutMs: 600_000 })
        const ms = performance.now() - started
        if (r.code !== 0) throw new Error(`snapshot failed (exit ${r.code}): ${r.stderr}`)
        const out = JSON.parse(r.stdout) as { commit?: string; packed?: Packed }
        return { ms, commit: out.commit !== undefined, ...(out.packed === undefined ? {} : { packed: out.packed }) }
      }
      await ct.runOk(['sh', '-c', CHURN, 'sh', '0'])
      const first = await snapshot(['--init'])
      const firstKb = (await repoKb(ct)).repo
      // The same first snapshot packed whole (a bare clone), for a fair second ratio: packed against packed.
      await ct.runOk(['sh', '-c', `rm -rf /tmp/first-packed && git clone -q --bare --no-local ${TWIN} /tmp/first-packed`])
      const firstPackedKb = Number((await ct.runOk(['du', '-sk', '/tmp/first-packed'])).stdout.split('\t')[0])
      await ct.runOk(['rm', '-rf', '/tmp/first-packed'])
      const times: number[] = []
      const packs: Array<Packed & { snapshotMs: number }> = []
      const unpacked: number[] = []
      if (first.packed !== undefined) packs.push({ ...first.packed, snapshotMs: first.ms })
      let commits = 1
      const curve: Array<{ snapshots: number; kb: number }> = [{ snapshots: 1, kb: firstKb }]
      // Measured after every snapshot, not only every 50: a size that moves between packs would
      // otherwise be sampled at one phase of the pack cycle (session 4's "steps").
      let largest = { snapshots: 1, kb: firstKb }
      ctx.progress(`growth: ${total} snapshots, each after an hour's churn (progress every 50)`)
      for (let i = 1; i < total; i++) {
        await ct.runOk(['sh', '-c', CHURN, 'sh', String(i)])
        const s = await snapshot(['--if-changed'])
        times.push(s.ms)
        if (s.packed !== undefined) packs.push({ ...s.packed, snapshotMs: s.ms })
        else unpacked.push(s.ms)
        if (s.commit) commits++
        const kb = (await repoKb(ct)).repo
        if (kb > largest.kb) largest = { snapshots: i + 1, kb }
        if ((i + 1) % 50 === 0 || i + 1 === total) {
          curve.push({ snapshots: i + 1, kb })
          ctx.progress(`growth: ${i + 1}/${total}, .git ${((curve.at(-1)?.kb ?? 0) / 1024).toFixed(1)} MB, median ${Math.round(median(times))} ms a snapshot`)
        }
      }
      const after = await repoKb(ct)
      const afterKb = after.repo
      const parts = await breakdown(ct, afterKb)
      const gc = await ct.twinsync(['gc', '--repo', TWIN, '--config', CONFIG, '--json'], { timeoutMs: 600_000 })
      const afterGc = gc.code === 0 ? (JSON.parse(gc.stdout) as { sizeAfter?: number }).sizeAfter : undefined
      const gcKb = (await repoKb(ct)).repo
      const growth = afterKb / firstKb
      const twice: Goal = { text: '≤ 2× the first one', met: () => growth <= 2 }
      const full = packs.filter((p) => p.kind === 'full')
      const incremental = packs.filter((p) => p.kind === 'incremental')
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
      ctx.note(`Automatic packs (auto-pack.ts) during the growth run: ${packs.map((p) => `${p.kind[0]}${p.ms}`).join(' ')} (i = incremental, f = whole; ms of git repack).`)
      ctx.note(`What .git holds after ${total} snapshots (du -sk): ${parts}.`)
      ctx.note(`Repository growth: .git less TwinSync's provider caches (${after.cache} KB), measured with du -sk inside the container, after 1, every 50 and ${total} snapshots: ${curve.map((p) => `${p.snapshots}: ${(p.kb / 1024).toFixed(1)} MB`).join(', ')}.`)
      return [
        row('growth', `twin repository after the first snapshot (services, booted)`, { unit: 'KB', twinsync: firstKb, note: `first snapshot took ${Math.round(first.ms)} ms` }),
        row('growth', `twin repository after ${total} hourly snapshots with churn (${commits} commits)`, {
          unit: 'KB',
          twinsync: afterKb,
          goal: twice,
          note: `${growth.toFixed(2)}× the first one`,
        }),
        row('growth', `  the largest it was along the way (measured after every snapshot)`, {
          unit: 'KB',
          twinsync: largest.kb,
          note: `after snapshot ${largest.snapshots}: ${(largest.kb / firstKb).toFixed(2)}× the first one`,
        }),
        row('growth', `  the same after twinsync gc`, {
          unit: 'KB',
          twinsync: gcKb,
          note: `${(gcKb / firstKb).toFixed(2)}× the first one${afterGc === undefined ? '' : `; gc reports ${(afterGc / 1024).toFixed(0)} KB of objects`}`,
        }),
        row('growth', `  the first snapshot packed (a bare clone of it), for reference`, {
          unit: 'KB',
          twinsync: firstPackedKb,
          note: `after ${total}: ${(afterKb / firstPackedKb).toFixed(2)}× it`,
        }),
        row('growth', `time per snapshot --if-changed during the run (median of ${times.length})`, { twinsync: median(times), runs: times.length }),
        row('growth', `  the same, snapshots that did not pack (median of ${unpacked.length})`, { twinsync: median(unpacked), runs: unpacked.length }),
        row('growth', `automatic pack: amortised cost per snapshot (all repack time / ${total})`, { twinsync: sum(packs.map((p) => p.ms)) / total, note: `${incremental.length} incremental, ${full.length} whole` }),
        row('growth', `  incremental pack (median; worst)`, { ...(incremental.length === 0 ? {} : { twinsync: median(incremental.map((p) => p.ms)) }), note: incremental.length === 0 ? 'none ran' : `worst ${Math.max(...incremental.map((p) => p.ms))} ms` }),
        row('growth', `  whole pack (median; worst)`, { ...(full.length === 0 ? {} : { twinsync: median(full.map((p) => p.ms)) }), note: full.length === 0 ? 'none ran' : `worst ${Math.max(...full.map((p) => p.ms))} ms` }),
        row('growth', `  slowest snapshot of the run (with its pack, if any)`, { twinsync: Math.max(...times) }),
      ]
    } finally {
      await ct.close()
    }
  },
}

/** What a snapshot's --json says about its automatic pack (core/src/twin/auto-pack.ts). */
interface Packed {
  kind: 'incremental' | 'full'
  ms: number
}

/** Where .git's KB (less the provider caches) are: the object store, the reflogs, the rest. */
async function breakdown(ct: Container, repoKb: number): Promise<string> {
  // One du per folder: du counts a folder inside another given before it only once.
  const kb = async (path: string) => Number((await ct.runOk(['du', '-sk', `${TWIN}/.git/${path}`])).stdout.split('\t')[0])
  const objects = await kb('objects')
  const logs = await kb('logs')
  const out = (await ct.runOk(['git', '-C', TWIN, 'count-objects', '-v'])).stdout
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(out)?.[1] ?? 0)
  return `objects ${objects} KB (packs ${await kb('objects/pack')} KB: ${field('packs')} packs, ${field('in-pack')} objects; ${field('count')} loose objects), reflogs ${logs} KB, the rest (index, hooks, refs, config) ${repoKb - objects - logs} KB`
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
