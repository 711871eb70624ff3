import { strict as assert } from 'node:assert'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { makeScratch, sweepScratch } from '../src/sandbox-scratch.js'

/** Field 22 of /proc/PID/stat. */
const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string
}

describe('the checker sandbox\'s scratch folders', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scratch-test-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('are named after the process that made them (id and start time)', () => {
    const made = makeScratch(dir)
    assert.match(basename(made), new RegExp(`^twinsync-check-${process.pid}\\.${startOf(process.pid)}-[A-Za-z0-9]{6}$`))
  })

  it('sweeps only the empty folders of processes that are gone, never a live one\'s, a non-empty one, a symlink or another name', () => {
    const dead = spawnSync('true').pid as number
    const mine = makeScratch(dir)
    const deadOnes = join(dir, `twinsync-check-${dead}.1-abcDEF`)
    // The same id as this process, another start: a process before this one with this id.
    const reused = join(dir, `twinsync-check-${process.pid}.1-ghiJKL`)
    const full = join(dir, `twinsync-check-${dead}.1-mnoPQR`)
    const link = join(dir, `twinsync-check-${dead}.1-stuVWX`)
    const other = join(dir, 'twinsync-check-abcdef')
    for (const d of [deadOnes, reused, full, other]) mkdirSync(d)
    writeFileSync(join(full, 'kept'), 'x')
    symlinkSync(dir, link)
    assert.deepEqual(sweepScratch(dir).sort(), [deadOnes, reused].sort())
    for (const p of [mine, full, link, other]) assert.equal(existsSync(p), true, `${p} stays`)
  })

  it('finds nothing to do in a folder that does not exist', () => {
    assert.deepEqual(sweepScratch(join(dir, 'none')), [])
  })
})
