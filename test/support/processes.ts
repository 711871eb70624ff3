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
