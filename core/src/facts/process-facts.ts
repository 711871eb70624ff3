import type { ProviderContext } from '@twinsync/sdk'
import { compareStrings, passwdUsers, redactSecrets } from '@twinsync/sdk/light'
import { FactProvider, offlineReason, toFigures } from './fact-provider.js'

/** Linux reports process times in clock ticks; USER_HZ is 100 on every architecture Debian ships. */
const CLOCK_TICKS = 100
/** A command line is kept to this many characters in the twin. */
const COMMAND_CHARS = 200
/**
 * Resident memory is kept to this many significant figures (13,291,520 bytes is 13,300,000).
 * A process's RSS moves by a few pages between any two readings; kept to the byte, it made
 * top.json differ in every snapshot. Issue 22, services root, 200 hourly snapshots: top.json
 * took 103 bytes of packed history a snapshot, 56 without TwinSync's own process (below), 19
 * with both (56 distinct documents instead of 200).
 */
const RSS_FIGURES = 3

export interface ProcessSample {
  pid: number
  user: string
  command: string
  cpuPercent: number
  rssBytes: number
}

/**
 * system/processes/top.json: the top processes by CPU and by memory, bounded by
 * limits.topProcesses. Read from /proc, so it needs no procps on the target. The snapshot's own
 * process and what it started (git, journalctl, dpkg-query) are left out: they are TwinSync
 * reading the machine, not the machine's work, and a new pid and CPU share in every snapshot.
 */
export class ProcessFacts extends FactProvider {
  readonly name = 'processes'
  readonly description = 'Top processes by CPU and memory'
  readonly twinPaths = ['system/processes/']

  protected async read(ctx: ProviderContext): Promise<Record<string, unknown>> {
    if (!ctx.host.live) return { 'system/processes/top.json': offlineReason(ctx) }
    const users = parsePasswdNames((await ctx.host.readTextIfExists('/etc/passwd')) ?? '')
    const uptime = Number(((await ctx.host.readTextIfExists('/proc/uptime', { follow: 'root-owned' })) ?? '0').split(' ')[0])
    const read: Array<{ sample: ProcessSample; ppid: number }> = []
    for (const entry of await ctx.host.readdir('/proc')) {
      if (!/^\d+$/.test(entry.name)) continue
      const sample = await readProcess(ctx, Number(entry.name), uptime, users)
      if (sample !== undefined) read.push(sample)
    }
    const samples = withoutDescendants(read, process.pid)
    const n = ctx.limits.topProcesses
    return {
      'system/processes/top.json': {
        available: true,
        count: samples.length,
        byCpu: topBy(samples, (p) => p.cpuPercent, n),
        byMemory: topBy(samples, (p) => p.rssBytes, n),
      },
    }
  }
}

async function readProcess(ctx: ProviderContext, pid: number, uptime: number, users: Map<number, string>): Promise<{ sample: ProcessSample; ppid: number } | undefined> {
  try {
    const [stat, status, cmdline] = await Promise.all([
      ctx.host.readTextIfExists(`/proc/${pid}/stat`),
      ctx.host.readTextIfExists(`/proc/${pid}/status`),
      ctx.host.readTextIfExists(`/proc/${pid}/cmdline`),
    ])
    if (stat === undefined || status === undefined) return undefined
    const sample = parseProcess(pid, stat, status, cmdline ?? '', uptime, users)
    // Redact before cutting: a cut token would no longer look like one.
    return { sample: { ...sample, command: (await redactSecrets(sample.command)).slice(0, COMMAND_CHARS) }, ppid: parseParentPid(stat) }
  } catch {
    return undefined // the process ended while we read it
  }
}

export function parseProcess(pid: number, stat: string, status: string, cmdline: string, uptime: number, users: Map<number, string>): ProcessSample {
  // The command name in stat is in parentheses and may itself contain spaces or ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  const start = Number(fields[19]) / CLOCK_TICKS
  const elapsed = Math.max(uptime - start, 1)
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1)
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0)
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
  // Whole, not cut: the caller redacts secrets (`--db-password=<redacted>`) and then cuts to COMMAND_CHARS.
  const command = cmdline.split('\0').filter(Boolean).join(' ') || `[${name}]`
  return {
    pid,
    user: users.get(uid) ?? String(uid),
    command,
    cpuPercent: Math.round(((utime + stime) / CLOCK_TICKS / elapsed) * 1000) / 10,
    rssBytes: toFigures(rssKb * 1024, RSS_FIGURES),
  }
}

/** The parent's pid: the field after the state, after "(comm) ". */
export function parseParentPid(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0)
}

/** The samples less `root` and every process below it (children, their children). */
export function withoutDescendants(read: ReadonlyArray<{ sample: ProcessSample; ppid: number }>, root: number): ProcessSample[] {
  const parent = new Map(read.map((r) => [r.sample.pid, r.ppid]))
  const below = (pid: number): boolean => {
    // Bounded walk: a pid's parent chain read while processes come and go may loop.
    for (let p: number | undefined = pid, n = 0; p !== undefined && p > 0 && n < read.length + 1; p = parent.get(p), n++) if (p === root) return true
    return false
  }
  return read.filter((r) => !below(r.sample.pid)).map((r) => r.sample)
}

function topBy(samples: readonly ProcessSample[], key: (p: ProcessSample) => number, n: number): ProcessSample[] {
  return [...samples].sort((a, b) => key(b) - key(a) || compareStrings(a.command, b.command) || a.pid - b.pid).slice(0, n)
}

/** uid → name as getpwuid(3) gives it (ps's names): the first user of a uid; a `+`/`-` line is none (passwdUsers). */
export function parsePasswdNames(text: string): Map<number, string> {
  const out = new Map<number, string>()
  for (const { name, uid } of passwdUsers(text)) if (!out.has(uid)) out.set(uid, name)
  return out
}
