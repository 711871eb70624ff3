import { spawn } from 'node:child_process'

/** The id git gives the empty tree: the "before" of a twin's first commit. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

/**
 * Run git in the twin and return its standard output; rejects with its error output. `env` is
 * added to this process's environment (commit-tree with a snapshot's original dates).
 */
export function gitOutput(dir: string, args: string[], env?: Record<string, string>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', dir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', (e) => reject(e))
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(Buffer.concat(err).toString('utf8').trim()))))
  })
}

export interface GitObject {
  type: string
  bytes: Uint8Array
}

/** One long-lived `git cat-file --batch`; requests (`<commit>:<path>` or a blob id) are answered in order. */
export class BatchReader {
  private readonly child
  private buffer = Buffer.alloc(0)
  private readonly waiting: Array<(object: GitObject | undefined) => void> = []

  constructor(dir: string) {
    this.child = spawn('git', ['-C', dir, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'ignore'] })
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.drain()
    })
  }

  read(spec: string): Promise<Uint8Array | undefined> {
    return this.readObject(spec).then((o) => o?.bytes)
  }

  /** An object with its type (blob, tree, commit, tag). */
  readObject(spec: string): Promise<GitObject | undefined> {
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
      const [, type = '', sizeText] = header.split(' ')
      const size = Number(sizeText)
      if (this.buffer.length < newline + 1 + size + 1) return
      const body = this.buffer.subarray(newline + 1, newline + 1 + size)
      this.buffer = this.buffer.subarray(newline + 1 + size + 1)
      this.waiting.shift()?.({ type, bytes: Buffer.from(body) })
    }
  }
}

/** Read many blobs by id through one batch reader; missing ones are left out. */
export async function readBlobs(dir: string, shas: readonly string[]): Promise<Map<string, Uint8Array>> {
  const result = new Map<string, Uint8Array>()
  if (shas.length === 0) return result
  const reader = new BatchReader(dir)
  try {
    const blobs = await Promise.all(shas.map((sha) => reader.read(sha)))
    shas.forEach((sha, i) => {
      const bytes = blobs[i]
      if (bytes !== undefined) result.set(sha, bytes)
    })
  } finally {
    reader.close()
  }
  return result
}
