import { spawn } from 'node:child_process'

/** Read many blobs by id with one `git cat-file --batch`. */
export function readBlobs(dir: string, shas: readonly string[]): Promise<Map<string, Uint8Array>> {
  return new Promise((resolve, reject) => {
    const result = new Map<string, Uint8Array>()
    if (shas.length === 0) return resolve(result)
    const child = spawn('git', ['-C', dir, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'ignore'] })
    let buffer = Buffer.alloc(0)
    let index = 0
    child.stdout.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const newline = buffer.indexOf(10)
        if (newline < 0) return
        const header = buffer.subarray(0, newline).toString('utf8')
        if (header.endsWith(' missing')) {
          buffer = buffer.subarray(newline + 1)
          index++
          continue
        }
        const size = Number(header.split(' ')[2])
        if (buffer.length < newline + 1 + size + 1) return
        result.set(shas[index++] as string, Buffer.from(buffer.subarray(newline + 1, newline + 1 + size)))
        buffer = buffer.subarray(newline + 2 + size)
      }
    })
    child.on('error', reject)
    child.on('close', () => resolve(result))
    child.stdin.end(shas.join('\n') + '\n')
  })
}
