import type { HostPort } from '@twinsync/sdk'

/** How long a reloaded or restarted unit has to be active and listening again. */
export const VERIFY_TIMEOUT_MS = 10_000
const POLL_MS = 200
/**
 * Many services reload by a signal (nginx -s reload): systemctl returns before the service has
 * read its configuration and closed the sockets it no longer wants. Listening is judged after
 * this pause, so the old sockets do not count as the new configuration's.
 */
const SETTLE_MS = 1_000

/** /proc/net files and the state that means "listening" in each (TCP LISTEN, UDP bound). */
const SOCKET_TABLES = [
  { file: '/proc/net/tcp', proto: 'tcp', listening: '0A' },
  { file: '/proc/net/tcp6', proto: 'tcp6', listening: '0A' },
  { file: '/proc/net/udp', proto: 'udp', listening: '07' },
  { file: '/proc/net/udp6', proto: 'udp6', listening: '07' },
] as const

/**
 * Where the unit's processes listen, as "tcp 0.0.0.0:8080": the sockets of every process in the
 * unit's control group (from /proc/<pid>/cgroup and /proc/<pid>/fd), looked up in /proc/net.
 * Empty when the unit has no processes or /proc cannot be read.
 */
export async function listeningSockets(host: HostPort, unit: string): Promise<Set<string>> {
  const out = new Set<string>()
  const shown = await host.query('systemctl', ['show', '--property=ControlGroup', '--value', '--', unit], { timeoutMs: 30_000 })
  const group = shown.stdout.trim()
  if (shown.exitCode !== 0 || group === '') return out
  const inodes = new Set<string>()
  let pids: string[]
  try {
    pids = (await host.readdir('/proc')).map((e) => e.name).filter((n) => /^\d+$/.test(n))
  } catch {
    return out
  }
  for (const pid of pids) {
    try {
      const cgroup = ((await host.readTextIfExists(`/proc/${pid}/cgroup`)) ?? '').split('\n').find((l) => l.startsWith('0::'))?.slice(3)
      if (cgroup === undefined || (cgroup !== group && !cgroup.startsWith(`${group}/`))) continue
      for (const fd of await host.readdir(`/proc/${pid}/fd`)) {
        const link = await host.readlink(`/proc/${pid}/fd/${fd.name}`).catch(() => '')
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1]
        if (inode !== undefined) inodes.add(inode)
      }
    } catch {
      // the process ended while we looked
    }
  }
  if (inodes.size === 0) return out
  for (const table of SOCKET_TABLES) {
    const text = (await host.readTextIfExists(table.file, { follow: 'root-owned' }).catch(() => undefined)) ?? ''
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      const [local, state, inode] = [fields[1], fields[3], fields[9]]
      if (local === undefined || state !== table.listening || inode === undefined || !inodes.has(inode)) continue
      out.add(`${table.proto} ${formatAddress(local)}`)
    }
  }
  return out
}

/** "0100007F:1F90" → "127.0.0.1:8080"; IPv6 as its 32 hex digits, compressed only for "::". */
export function formatAddress(hex: string): string {
  const [addr = '', port = '0'] = hex.split(':')
  const portNumber = parseInt(port, 16)
  if (addr.length === 8) {
    const bytes = (addr.match(/../g) ?? []).map((b) => parseInt(b, 16)).reverse()
    return `${bytes.join('.')}:${portNumber}`
  }
  if (/^0+$/.test(addr)) return `[::]:${portNumber}`
  return `[${addr.toLowerCase()}]:${portNumber}`
}

export async function isActive(host: HostPort, unit: string): Promise<boolean> {
  return (await host.query('systemctl', ['is-active', '--', unit], { timeoutMs: 30_000 })).stdout.trim() === 'active'
}

/**
 * After `systemctl reload|restart`: the unit must be active within the timeout and listen again
 * everywhere it listened before. Returns the problem as a sentence, or undefined when it is fine.
 */
export async function verifyBack(host: HostPort, unit: string, before: ReadonlySet<string>, operation: string, timeoutMs = VERIFY_TIMEOUT_MS): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs
  let state = ''
  let missing: string[] = []
  let settled = before.size === 0
  for (;;) {
    state = (await host.query('systemctl', ['is-active', '--', unit], { timeoutMs: 30_000 })).stdout.trim()
    if (state === 'active' && !settled) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
      settled = true
      continue
    }
    if (state === 'active') {
      const now = await listeningSockets(host, unit)
      missing = [...before].filter((s) => !now.has(s))
      if (missing.length === 0) return undefined
    } else if (state === 'failed' || state === 'inactive') {
      break
    }
    if (Date.now() >= deadline) break
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  if (state !== 'active') return `${unit} is ${state || 'unknown'} after the ${operation}, not active`
  return `${unit} no longer listens on ${missing.join(', ')} after the ${operation}`
}
