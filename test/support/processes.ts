import { spawn, type ChildProcess } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'

/** The processes under `pid`, from /proc. */
export async function descendants(pid: number): Promise<Array<{ pid: number; comm: string }>> {
  const parent = new Map<number, number>()
  const comm = new Map<number, string>()
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '')
    const m = /^(\d+) \((.*)\) \S+ (\d+)/s.exec(stat)
    if (m === null) continue
    parent.set(Number(m[1]), Number(m[3]))
    comm.set(Number(m[1]), m[2] as string)
  }
  const out: Array<{ pid: number; comm: string }> = []
  const under = new Set([pid])
  for (let grew = true; grew; ) {
    grew = false
    for (const [p, pp] of parent) {
      if (under.has(pp) && !under.has(p)) {
        under.add(p)
        out.push({ pid: p, comm: comm.get(p) as string })
        grew = true
      }
    }
  }
  return out
}

/**
 * `twinsync ARGS` started, and returned once a service's checker it runs (an `nginx` below it)
 * has lasted three looks in a row while `ready()` holds (the new file live): a checker waiting on
 * a FIFO the new configuration includes, which holds the window between the write and the verdict
 * open. The caller kills what it must (the apply, the checker in `waiting`) and awaits `exited`.
 */
export async function applyWaitingOnChecker(bin: string, args: readonly string[], env: NodeJS.ProcessEnv, ready: () => Promise<boolean>): Promise<{ child: ChildProcess; exited: Promise<number | null>; waiting: Array<{ pid: number; comm: string }>; output: () => { stdout: string; stderr: string } }> {
  const child = spawn('node', [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const deadline = Date.now() + 120_000
  let waiting: Array<{ pid: number; comm: string }> = []
  for (let seen = 0; seen < 3; ) {
    if (Date.now() > deadline) throw new Error(`the checker never waited:\n${stdout}${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    waiting = await descendants(child.pid as number)
    seen = waiting.some((p) => p.comm === 'nginx') && (await ready()) ? seen + 1 : 0
  }
  return { child, exited, waiting, output: () => ({ stdout, stderr }) }
}
