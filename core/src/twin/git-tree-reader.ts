import { spawn } from 'node:child_process'
import type { TwinReader } from '@twinsync/sdk'
import { TwinSyncError, compareStrings } from '@twinsync/sdk'

/**
 * The twin as it was at one commit: reads blobs through a single `git cat-file --batch`
 * process instead of one `git show` per file, since a twin has thousands of files.
 */
export class GitTreeReader implements TwinReader {
  private files: Promise<Set<string>> | undefined
  private batch: BatchReader | undefined

  constructor(
    private readonly dir: string,
    readonly commit: string,
  ) {}

  async read(path: string): Promise<Uint8Array | undefined> {
    if (!(await this.allFiles()).has(path)) return undefined
    this.batch ??= new BatchReader(this.dir)
    return this.batch.read(`${this.commit}:${path}`)
  }

  async readText(path: string): Promise<string | undefined> {
    const bytes = await this.read(path)
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
  }

  async list(prefix: string): Promise<string[]> {
    return [...(await this.allFiles())].filter((p) => p.startsWith(prefix)).sort(compareStrings)
  }

  close(): void {
    this.batch?.close()
  }

  private allFiles(): Promise<Set<string>> {
    this.files ??= gitOutput(this.dir, ['ls-tree', '-r', '-z', '--name-only', this.commit]).then(
      (out) => new Set(out.toString('utf8').split('\0').filter(Boolean)),
    )
    return this.files
  }
}

/** Resolve a snapshot reference (a hash, HEAD~2, a tag) to a full commit id. */
export async function resolveCommit(dir: string, ref: string): Promise<string> {
  if (ref.startsWith('-') || /[\0\n]/.test(ref)) throw unknownRef(ref)
  try {
    return (await gitOutput(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).toString('utf8').trim()
  } catch {
    throw unknownRef(ref)
  }
}

function unknownRef(ref: string): TwinSyncError {
  return new TwinSyncError('SNAPSHOT_UNKNOWN', `No snapshot ${JSON.stringify(ref)} in the twin`, {
    nextStep: 'Run `git -C <twin> log --oneline` to see the snapshots.',
    details: { ref },
  })
}

/** Run git in the twin and return its standard output; rejects with its error output. */
export function gitOutput(dir: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', (e) => reject(e))
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(Buffer.concat(err).toString('utf8').trim()))))
  })
}

/** One long-lived `git cat-file --batch`; requests are answered in order. */
class BatchReader {
  private readonly child
  private buffer = Buffer.alloc(0)
  private readonly waiting: Array<(bytes: Uint8Array | undefined) => void> = []

  constructor(dir: string) {
    this.child = spawn('git', ['-C', dir, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'ignore'] })
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.drain()
    })
  }

  read(spec: string): Promise<Uint8Array | undefined> {
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.child.stdin.write(`${spec}\n`)
    })
  }

  close(): void {
    this.child.stdin.end()
  }

  private drain(): void {
    for (;;) {
      const newline = this.buffer.indexOf(10)
      if (newline < 0 || this.waiting.length === 0) return
      const header = this.buffer.subarray(0, newline).toString('utf8')
      if (header.endsWith(' missing')) {
        this.buffer = this.buffer.subarray(newline + 1)
        this.waiting.shift()?.(undefined)
        continue
      }
      const size = Number(header.split(' ')[2])
      if (this.buffer.length < newline + 1 + size + 1) return
      const body = this.buffer.subarray(newline + 1, newline + 1 + size)
      this.buffer = this.buffer.subarray(newline + 1 + size + 1)
      this.waiting.shift()?.(Buffer.from(body))
    }
  }
}
