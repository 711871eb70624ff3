import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ExecResult } from '@twinsync/sdk'
import { SAFE_PATH, TwinSyncError, processStartTime } from '@twinsync/sdk/light'

/** Where rehearsals keep their (empty) mount points and their records, on the host's /run. */
export const REHEARSAL_RUN_DIR = '/run/twinsync/rehearsal'
const NSPAWN_RUN = '/run/systemd/nspawn'
/**
 * The PATH of the host's setpriv, unshare, nsenter and systemd-nspawn, and of a program run in the
 * container: the distribution's folders first (SAFE_PATH), as the host port looks for them in a
 * target; /usr/local/bin is the files provider's to write.
 */
const PATH = SAFE_PATH
const HOST_ENV = { PATH, LANG: 'C.UTF-8', SYSTEMD_COLORS: '0' }
const NAME_PREFIX = 'twinsync-rehearsal-'

/**
 * The supervisor: one shell in a private mount namespace (unshare), so the tmpfs, the overlay
 * and the container's mounts exist only there and vanish with it; no mount is ever made in the
 * host's namespace. It runs the container and, however it ends (the container powers off, the
 * supervisor gets SIGTERM from TwinSync, or TwinSync dies and setpriv's parent-death signal
 * delivers SIGTERM), kills what is left of the container, then removes the mount point, nspawn's
 * own leftovers for this machine name, and the record. The script is constant: everything
 * variable arrives as positional parameters.
 */
const SUPERVISOR = `set -u -f
# The pipes to TwinSync break when it dies: the shell itself never writes to them (a write would
# kill it with SIGPIPE before it cleaned up); only nspawn's console and mount errors go there.
trap '' PIPE
exec 3>&2 >/dev/null 2>&1
dir=$1; lower=$2; name=$3; record=$4; nsub=$5; shift 5
subs=; i=0
while [ "$i" -lt "$nsub" ]; do subs="$subs $1"; shift; i=$((i+1)); done
ns=; stopping=
stop() {
  stopping=1
  if [ -n "$ns" ]; then
    for c in $(cat "/proc/$ns/task/$ns/children" 2>/dev/null); do kill -KILL "$c" 2>/dev/null; done
    kill -KILL "$ns" 2>/dev/null
  fi
}
trap stop TERM INT HUP
# Other file systems mounted below the root (a separate /var, /home): an overlay each, at its place.
overlay_subs() {
  n=0
  for m in $subs; do
    n=$((n+1))
    mkdir "$dir/upper-$n" "$dir/work-$n" && mount -t overlay twinsync-rehearsal -o "lowerdir=$lower$m,upperdir=$dir/upper-$n,workdir=$dir/work-$n" "$dir/root$m" 2>&3 || return 1
  done
}
# The container's last processes may still hold the overlay for a moment after nspawn is killed
# (seen under load: the folder was left for the next run's sweep): retry, then detach lazily.
unmount_all() {
  t=0
  while ! umount -R "$dir" 2>/dev/null; do
    mountpoint -q "$dir" || return 0
    t=$((t+1))
    if [ "$t" -ge 20 ]; then umount -R -l "$dir" 2>/dev/null; return 0; fi
    sleep 0.25
  done
}
code=0
if mount -t tmpfs -o mode=0700 twinsync-rehearsal "$dir" 2>&3 && mkdir "$dir/upper" "$dir/work" "$dir/root" \\
   && mount -t overlay twinsync-rehearsal -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/root" 2>&3 \\
   && overlay_subs; then
  lock=$(stat -c 'inode-%d:%i' "$dir/root")
  if [ -z "$stopping" ]; then
    systemd-nspawn --directory="$dir/root" "$@" </dev/null >&3 2>&3 &
    ns=$!
    while kill -0 "$ns" 2>/dev/null; do wait "$ns"; done
  fi
  unmount_all
  rm -f "${NSPAWN_RUN}/locks/$lock"
else
  echo "twinsync-rehearsal: the overlay could not be mounted" >&3
  code=90
  umount -R "$dir" 2>/dev/null
fi
rmdir "${NSPAWN_RUN}/propagate/$name" 2>/dev/null
rmdir "$dir" 2>/dev/null
rm -f "$record"
exit $code
`

export interface BindMount {
  host: string
  container: string
  readOnly: boolean
}

export interface ContainerOptions {
  /** The root file system to rehearse on: read-only lower layer of the overlay. */
  root: string
  /** 'none': a loopback interface of its own (the default); 'host': the machine's network. */
  network: 'none' | 'host'
  binds: readonly BindMount[]
  /**
   * Mount points of other file systems below the root ("/var"), outermost first: each gets an
   * overlay of its own at its place, so the container sees their content and writes none of it.
   */
  submounts?: readonly string[]
  bootTimeoutMs?: number
  /** Resolve only once systemd reports running (or degraded); otherwise as soon as its PID 1 runs. */
  untilRunning?: boolean
  signal?: AbortSignal
}

/** What the sweep finds of an earlier rehearsal. */
interface Record {
  name: string
  root: string
  owner: { pid: number; start: string }
  supervisor: { pid: number; start: string }
}

/**
 * A throwaway copy of a machine: systemd-nspawn booted over an overlay of its root (the root
 * read-only below, a tmpfs on top), in a private mount namespace. Close it in a finally block;
 * if TwinSync is killed, the supervisor takes it down by itself, and the next rehearsal's sweep
 * removes anything a killed supervisor left.
 */
export class RehearsalContainer {
  private initPid = 0
  private readonly consoleTail: string[] = []
  private readonly exited: Promise<number | null>
  private closed = false

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly record: string,
    private readonly supervisor: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => supervisor.once('exit', (code) => resolve(code)))
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.consoleTail.push(stripAnsi(line))
      this.consoleTail.splice(0, Math.max(0, this.consoleTail.length - 40))
    }
    supervisor.stdout?.on('data', keep)
    supervisor.stderr?.on('data', keep)
  }

  /** Boot a container over `root`; resolves when its systemd runs (and, by default, reports running or degraded). */
  static async start(options: ContainerOptions): Promise<RehearsalContainer> {
    const subs = options.submounts ?? []
    const bound = new Set(options.binds.flatMap((b) => [b.host, b.container]))
    for (const path of [options.root, ...subs, ...bound]) {
      if (/[:,\\\s]/.test(path)) {
        throw new TwinSyncError('REHEARSAL_UNAVAILABLE', `A rehearsal cannot use the path ${JSON.stringify(path)}: overlay and nspawn options cannot carry ':', ',', '\\\\' or white space in a path`, {
          // A folder bound in (a plugin's, TwinSync's own, node) is not the root: say so.
          nextStep: bound.has(path) && path !== options.root && !subs.includes(path)
            ? 'That folder is bound into the container (a plugin, TwinSync itself or node): move it to a path without these characters (a linked plugin: `twinsync plugins link` it again from there).'
            : 'Rehearse a root whose path has none of these characters (rename it, or bind-mount it elsewhere).',
          details: { path },
        })
      }
    }
    await mkdir(REHEARSAL_RUN_DIR, { recursive: true, mode: 0o700 })
    const name = `${NAME_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`
    const dir = join(REHEARSAL_RUN_DIR, name)
    const record = `${dir}.json`
    await mkdir(dir, { mode: 0o700 })
    const nspawnArgs = [
      '--quiet',
      '--boot',
      // No machined needed: the container stays in TwinSync's own cgroup and is not registered.
      '--register=no',
      '--keep-unit',
      `--machine=${name}`,
      // The container's journal stays in the container (and goes with it).
      '--link-journal=no',
      '--console=read-only',
      ...(options.network === 'none' ? ['--private-network'] : []),
      ...options.binds.map((b) => `--bind${b.readOnly ? '-ro' : ''}=${b.host}:${b.container}`),
    ]
    const child = spawn(
      'setpriv',
      ['--pdeathsig', 'SIGTERM', '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', SUPERVISOR, 'twinsync-rehearsal', dir, options.root, name, record, String(subs.length), ...subs, ...nspawnArgs],
      // Its own process group: Ctrl-C reaches TwinSync, which takes the container down in order.
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: HOST_ENV },
    )
    child.once('error', () => undefined)
    const container = new RehearsalContainer(name, dir, record, child)
    try {
      if (child.pid === undefined) throw new Error('setpriv could not be started')
      const rec: Record = { name, root: options.root, owner: { pid: process.pid, start: processStartTime(process.pid) ?? '' }, supervisor: { pid: child.pid, start: processStartTime(child.pid) ?? '' } }
      await writeFile(record, JSON.stringify(rec) + '\n', { mode: 0o600 })
      await container.boot(options.bootTimeoutMs ?? 60_000, options.signal, { untilRunning: options.untilRunning ?? true })
    } catch (error) {
      await container.close()
      throw error
    }
    return container
  }

  /** Host process id of the container's systemd (its PID 1). */
  get pid(): number {
    return this.initPid
  }

  /** Run argv inside the container (all its namespaces, a clean environment). Never throws for a non-zero exit. */
  async exec(argv: readonly string[], options: { input?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecResult> {
    const { execa } = await import('execa')
    const [command = '', ...args] = argv
    const result = await execa('nsenter', ['--target', String(this.initPid), '--all', 'env', '-i', `PATH=${PATH}`, 'LANG=C.UTF-8', 'HOME=/root', 'SYSTEMD_COLORS=0', ...argv], {
      reject: false,
      extendEnv: false,
      env: HOST_ENV,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
    return { command, args, exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), timedOut: result.timedOut === true }
  }

  /** The container's console, last lines: what to show when it does not boot. */
  console(): string[] {
    return [...this.consoleTail]
  }

  /**
   * Take it all down: the supervisor kills the container and removes its mount point and record.
   * Returns what is left on the host afterwards (nothing, unless something went badly wrong).
   */
  async close(): Promise<string[]> {
    if (!this.closed) {
      this.closed = true
      if (this.supervisor.exitCode === null && this.supervisor.signalCode === null) {
        try {
          process.kill(this.supervisor.pid as number, 'SIGTERM')
        } catch {
          // already gone
        }
        if (!(await within(this.exited, 20_000))) {
          killTree(this.supervisor.pid as number)
          await within(this.exited, 5_000)
        }
      }
      await removeLeftovers(this.name, this.dir, this.record)
    }
    return leftoversOf(this.name, this.dir, this.record, this.supervisor.pid)
  }

  private async boot(timeoutMs: number, signal: AbortSignal | undefined, options: { untilRunning: boolean }): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const supervisorPid = this.supervisor.pid as number
    let state = ''
    while (Date.now() < deadline) {
      if (signal?.aborted) throw aborted()
      if (this.supervisor.exitCode !== null || this.supervisor.signalCode !== null) throw this.bootFailed('the container stopped while it booted')
      if (this.initPid === 0) {
        const nspawn = childrenOf(supervisorPid).find((p) => commOf(p) === 'systemd-nspawn')
        const init = nspawn === undefined ? undefined : childrenOf(nspawn).find((p) => commOf(p) === 'systemd')
        if (init !== undefined) this.initPid = init
      } else if (!options.untilRunning) {
        return
      } else {
        state = (await this.exec(['systemctl', 'is-system-running'], { timeoutMs: 10_000 })).stdout.trim()
        if (state === 'running' || state === 'degraded') return
        if (state === 'maintenance' || state === 'stopping' || state === 'offline') break
      }
      await sleep(this.initPid === 0 ? 20 : 50)
    }
    const jobs = this.initPid === 0 ? '' : (await this.exec(['systemctl', 'list-jobs', '--no-pager', '--no-legend'], { timeoutMs: 10_000 })).stdout.trim()
    throw this.bootFailed(`the container did not finish booting within ${Math.round(timeoutMs / 1000)} s (systemctl is-system-running: ${state || 'no answer'})${jobs ? `; still waiting for: ${jobs.split('\n').slice(0, 5).join('; ')}` : ''}`)
  }

  private bootFailed(why: string): TwinSyncError {
    const overlay = this.consoleTail.some((l) => /overlay could not be mounted/.test(l))
    return new TwinSyncError(overlay ? 'REHEARSAL_UNAVAILABLE' : 'REHEARSAL_BOOT_FAILED', overlay ? `The rehearsal's overlay could not be mounted over the root: ${this.consoleTail.slice(-3).join(' ')}` : `The rehearsal container did not boot: ${why}`, {
      nextStep: overlay
        ? 'Check that the kernel has overlayfs (`grep overlay /proc/filesystems`, `modprobe overlay`) and that the root is not itself an overlay upper layer.'
        : 'Look at the console lines in the details; `systemd-nspawn -D ROOT --volatile=overlay --boot` shows the same boot by hand.',
      details: { console: this.consoleTail.slice(-20) },
    })
  }
}

/**
 * Remove what earlier rehearsals left: those whose TwinSync process is gone. A supervisor still
 * running is told to stop (it cleans up after itself); empty mount points and records of dead
 * ones are removed. Returns the names swept.
 */
export async function sweepRehearsals(): Promise<string[]> {
  let entries: string[]
  try {
    entries = await readdir(REHEARSAL_RUN_DIR)
  } catch {
    return []
  }
  const swept: string[] = []
  const names = new Set(entries.filter((e) => e.startsWith(NAME_PREFIX)).map((e) => e.replace(/\.json$/, '')))
  for (const name of names) {
    const dir = join(REHEARSAL_RUN_DIR, name)
    const record = `${dir}.json`
    const rec = await readFile(record, 'utf8').then((t) => JSON.parse(t) as Record, () => undefined)
    const ownerPid = rec?.owner.pid ?? Number(/^twinsync-rehearsal-(\d+)-/.exec(name)?.[1] ?? 0)
    const ownerAlive = rec === undefined ? isAlive(ownerPid) : isAlive(rec.owner.pid, rec.owner.start)
    if (ownerAlive && ownerPid !== process.pid) continue
    if (rec !== undefined && isAlive(rec.supervisor.pid, rec.supervisor.start)) {
      try {
        process.kill(rec.supervisor.pid, 'SIGTERM')
      } catch {
        // gone meanwhile
      }
      for (let i = 0; i < 100 && isAlive(rec.supervisor.pid, rec.supervisor.start); i++) await sleep(50)
      if (isAlive(rec.supervisor.pid, rec.supervisor.start)) killTree(rec.supervisor.pid)
    }
    await removeLeftovers(name, dir, record)
    swept.push(name)
  }
  return swept
}

async function removeLeftovers(name: string, dir: string, record: string): Promise<void> {
  // Empty directories only: a mount point still in use (someone else's namespace) is not empty
  // from here either way, and rmdir never removes content.
  await rmdir(dir).catch(() => undefined)
  await rmdir(join(NSPAWN_RUN, 'propagate', name)).catch(() => undefined)
  await rm(record, { force: true }).catch(() => undefined)
}

/** What is still there of a rehearsal: its directory, its record, its processes, a mount. */
export function leftoversOf(name: string, dir: string, record: string, supervisorPid: number | undefined): string[] {
  const out: string[] = []
  for (const path of [dir, record, join(NSPAWN_RUN, 'propagate', name)]) {
    if (existsSync(path)) out.push(path)
  }
  if (supervisorPid !== undefined && isAlive(supervisorPid)) out.push(`process ${supervisorPid} (the rehearsal's supervisor)`)
  try {
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(dir)) out.push(`a mount under ${dir}`)
  } catch {
    // no /proc: nothing to say
  }
  return out
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return ''
  }
}


function isAlive(pid: number, start?: string): boolean {
  if (!(pid > 0)) return false
  const now = processStartTime(pid)
  if (now === undefined) return false
  return start === undefined || start === '' || now === start
}

/** SIGKILL a process and its descendants, children first. */
function killTree(pid: number): void {
  for (const child of childrenOf(pid)) killTree(child)
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // gone
  }
}

function aborted(): TwinSyncError {
  return new TwinSyncError('ABORTED', 'The rehearsal was cancelled; its container is gone and nothing was applied', { exitCode: 130 })
}

function within<T>(promise: Promise<T>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    promise.then(() => {
      clearTimeout(timer)
      resolve(true)
    }, () => resolve(true))
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\u001b\][^\u0007]*\u0007/g, '')
}
