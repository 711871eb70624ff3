import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { TwinSyncError } from '@twinsync/sdk'

/**
 * One snapshot or apply at a time per twin: a lock file holding the owner's pid, created with
 * O_EXCL. A lock whose process is gone (a crash, a kill -9) is taken over.
 */
export class TwinLock {
  private held = false

  constructor(private readonly path: string) {}

  async acquire(purpose: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true })
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.path, 'wx', 0o600)
        await handle.writeFile(`${process.pid} ${purpose}\n`)
        await handle.close()
        this.held = true
        return
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      const [pidText = '', holderPurpose = 'a run'] = (await readFile(this.path, 'utf8').catch(() => '')).trim().split(' ')
      const pid = Number(pidText)
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new TwinSyncError('LOCK_HELD', `Another TwinSync ${holderPurpose} (pid ${pid}) is using this twin`, {
          nextStep: `Wait for process ${pid} to finish, then run the command again.`,
          details: { pid, lock: this.path },
        })
      }
      await rm(this.path, { force: true }) // stale: its owner is gone
    }
    throw new TwinSyncError('LOCK_HELD', `Could not take the twin lock ${this.path}`, { details: { lock: this.path } })
  }

  async release(): Promise<void> {
    if (!this.held) return
    this.held = false
    await rm(this.path, { force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
