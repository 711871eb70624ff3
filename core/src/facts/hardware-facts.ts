import type { ProviderContext } from '@twinsync/sdk'
import { sortBy } from '@twinsync/sdk/light'
import { FactProvider, offlineReason, toFigures } from './fact-provider.js'

/** File system types that describe storage, not kernel interfaces. */
const PSEUDO_FS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'cgroup', 'cgroup2', 'securityfs', 'pstore', 'debugfs', 'tracefs', 'configfs', 'fusectl', 'mqueue', 'hugetlbfs', 'bpf', 'autofs', 'binfmt_misc', 'efivarfs', 'ramfs', 'rpc_pipefs', 'nsfs', 'squashfs'])

/**
 * Free memory and space used in usage.json are kept to this many significant figures (77.3 GB
 * available is 77,300,000,000 bytes): to the byte, they moved with every page the machine (and
 * the snapshot itself) touched. Issue 22, services root, 200 hourly snapshots: usage.json took
 * 129 bytes of packed history a snapshot, 36 rounded (it still changes each time: uptime, load).
 */
const USAGE_FIGURES = 3
const figures = (bytes: number): number => toFigures(bytes, USAGE_FIGURES)

/**
 * system/hardware.json (CPU, memory, disks, file systems with their sizes) and the volatile
 * system/runtime/usage.json (uptime, load, free memory, space used), so that a snapshot of an
 * idle machine does not change hardware.json.
 */
export class HardwareFacts extends FactProvider {
  readonly name = 'hardware'
  readonly description = 'CPU, memory, disks and file systems; uptime and usage'
  readonly twinPaths = ['system/hardware.json', 'system/runtime/usage.json']

  protected async read(ctx: ProviderContext): Promise<Record<string, unknown>> {
    if (!ctx.host.live) {
      return { 'system/hardware.json': offlineReason(ctx), 'system/runtime/usage.json': offlineReason(ctx) }
    }
    const [cpuinfo, meminfo, uptime, loadavg, mounts] = await Promise.all(
      ['/proc/cpuinfo', '/proc/meminfo', '/proc/uptime', '/proc/loadavg', '/proc/self/mounts'].map(
        async (p) => (await ctx.host.readTextIfExists(p, { follow: 'root-owned' })) ?? '',
      ),
    ) as [string, string, string, string, string]
    const mem = parseMeminfo(meminfo)
    const filesystems = await fileSystems(ctx, mounts)
    return {
      'system/hardware.json': {
        available: true,
        cpu: parseCpuinfo(cpuinfo),
        memory: { totalBytes: mem.MemTotal ?? null, swapTotalBytes: mem.SwapTotal ?? null },
        disks: await disks(ctx),
        filesystems: filesystems.map(({ used, available, ...stable }) => stable),
      },
      'system/runtime/usage.json': {
        available: true,
        uptimeSeconds: Math.floor(Number(uptime.split(' ')[0] ?? 0)),
        load: loadavg.split(' ').slice(0, 3).map(Number),
        memory: {
          availableBytes: mem.MemAvailable === undefined ? null : figures(mem.MemAvailable),
          freeBytes: mem.MemFree === undefined ? null : figures(mem.MemFree),
          swapFreeBytes: mem.SwapFree === undefined ? null : figures(mem.SwapFree),
        },
        filesystems: filesystems.map(({ mountpoint, used, available }) => ({ mountpoint, usedBytes: figures(used), availableBytes: figures(available) })),
      },
    }
  }
}

export function parseCpuinfo(text: string): { model: string | null; count: number } {
  const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? /^Hardware\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? null
  const count = text.split('\n').filter((l) => /^processor\s*:/.test(l)).length
  return { model, count }
}

/** /proc/meminfo in bytes. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim())
    if (m !== null) out[m[1] as string] = Number(m[2]) * (line.includes('kB') ? 1024 : 1)
  }
  return out
}

async function disks(ctx: ProviderContext): Promise<Array<{ name: string; sizeBytes: number; model: string | null; rotational: boolean | null }>> {
  let names: string[]
  try {
    names = (await ctx.host.readdir('/sys/block')).map((e) => e.name)
  } catch {
    return []
  }
  const out = []
  for (const name of names) {
    if (/^(loop|ram|zram|dm-|sr|md)/.test(name)) continue
    const sectors = Number((await ctx.host.readTextIfExists(`/sys/block/${name}/size`, { follow: 'root-owned' }))?.trim() ?? 0)
    const model = (await ctx.host.readTextIfExists(`/sys/block/${name}/device/model`, { follow: 'root-owned' }))?.trim() ?? null
    const rotational = (await ctx.host.readTextIfExists(`/sys/block/${name}/queue/rotational`, { follow: 'root-owned' }))?.trim()
    out.push({ name, sizeBytes: sectors * 512, model, rotational: rotational === undefined ? null : rotational === '1' })
  }
  return sortBy(out, (d) => d.name)
}

interface MountedFs {
  device: string
  mountpoint: string
  type: string
  sizeBytes: number
  used: number
  available: number
}

async function fileSystems(ctx: ProviderContext, mounts: string): Promise<MountedFs[]> {
  const { statfs } = await import('node:fs/promises')
  const seen = new Set<string>()
  const out: MountedFs[] = []
  for (const line of mounts.split('\n')) {
    const [device, rawMount, type] = line.split(' ')
    if (device === undefined || rawMount === undefined || type === undefined || PSEUDO_FS.has(type)) continue
    const mountpoint = rawMount.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
    if (seen.has(mountpoint)) continue
    seen.add(mountpoint)
    try {
      // The target is the running system here, so its mount points are the process's own.
      const s = await statfs(mountpoint)
      out.push({ device, mountpoint, type, sizeBytes: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize })
    } catch {
      // A mount we may not stat (a stale network mount): leave it out rather than hang or fail.
    }
  }
  return sortBy(out, (f) => f.mountpoint)
}
