// Bench rows for `twinsync rehearse` (issue 21): a typical plan (a changed nginx site, a new
// file, a new service enabled, one package from the root's own package cache) rehearsed on the
// realistic server root, from the host with --root. Goal: under 10 s.
import { readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chrootOk, freshRootfs } from '../bed/index.js'
import { cliSandbox, json } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'
import { atMost, row, type BenchRow } from './report.js'
import type { BenchContext, BenchSection } from './sections.js'

interface Timings {
  bootMs: number
  applyMs: number
  checksMs: number
  teardownMs: number
  totalMs: number
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

/** `npm run bench` section `rehearse` (BENCH_ONLY=rehearse). At most 3 runs: each boots a container. */
export const rehearseSection: BenchSection = {
  name: 'rehearse',
  describe: 'twinsync rehearse of a typical plan on the server root (files, a cached package, a service)',
  run: (ctx: BenchContext) => {
    ctx.progress('rehearse: a typical plan on the server root')
    return rehearseBench(Math.min(ctx.runs, 3))
  },
}

/** Rehearse the typical plan `runs` times; rows of medians (the whole command, and the rehearsal's parts). */
export async function rehearseBench(runs = 3): Promise<BenchRow[]> {
  const rootfs = await freshRootfs('server')
  const cli = await cliSandbox()
  try {
    const ts = (command: string, ...args: string[]) => cli.twinsync([command, '--root', rootfs.dir, '--repo', cli.twinDir, ...args])
    await chrootOk(rootfs.dir, 'apt-get', ['install', '--download-only', '-y', '-q', '--no-install-recommends', 'hello'], { timeoutMs: 300_000 })
    if (!readdirSync(join(rootfs.dir, 'var/cache/apt/archives')).some((f) => f.startsWith('hello_'))) throw new Error('hello did not reach the package cache')
    const snap = await ts('snapshot', '--init', '--json')
    if (snap.code !== 0) throw new Error(`snapshot failed: ${snap.stdout}${snap.stderr}`)
    const site = '/etc/nginx/sites-available/site'
    const text = await readFile(join(cli.twinDir, 'filesystem', site), 'utf8')
    await writeTwinFile(cli.twinDir, `filesystem${site}`, text.replace('listen 8080;', 'listen 8080;\n    listen 8090;'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/twin-demo.conf', 'level=1\n')
    await writeTwinFile(cli.twinDir, 'filesystem/etc/systemd/system/twin-demo.service', '[Unit]\nDescription=TwinSync demo\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n')
    await editTwinJson<{ units: Record<string, { state: string }> }>(cli.twinDir, 'system/services/units.json', (d) => {
      d.units['twin-demo.service'] = { state: 'enabled' }
    })
    await editTwinJson<{ nativeArchitecture: string; packages: Record<string, unknown> }>(cli.twinDir, 'system/packages/apt.json', (d) => {
      d.packages.hello = { architecture: d.nativeArchitecture, manual: true, hold: false }
    })
    const whole: number[] = []
    const parts: Timings[] = []
    for (let i = 0; i < runs; i++) {
      const started = performance.now()
      const r = await ts('rehearse', '--json')
      whole.push(performance.now() - started)
      const out = json<{ rehearsal: { passed: boolean; timings: Timings } }>(r)
      if (!out.rehearsal.passed) throw new Error(`the typical plan's rehearsal failed:\n${r.stdout}`)
      parts.push(out.rehearsal.timings)
    }
    const of = (key: keyof Timings) => median(parts.map((p) => p[key]))
    const r = (what: string, ms: number, extra: Parameters<typeof row>[2] = {}) => row('rehearse', what, { twinsync: ms, runs, ...extra })
    return [
      r('rehearse a typical plan on the services root (whole command, with planning)', median(whole)),
      r('  rehearsal: boot to teardown', of('totalMs'), { goal: atMost(10_000, 'ms') }),
      r('    boot over the overlay until running (TwinSync starts inside meanwhile)', of('bootMs')),
      r('    apply inside (apt from the package cache, files, enable)', of('applyMs')),
      r('    checks (restarts side by side, checkers, failed units)', of('checksMs')),
      r('    teardown', of('teardownMs')),
    ]
  } finally {
    await cli.cleanup()
    await rootfs.cleanup()
  }
}
