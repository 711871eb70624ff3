import { compareStrings } from './stable-json.js'
import type { TwinDocument, TwinReader } from './twin-document.js'

/** A twin held in memory: the documents of one collect, read back the way the planner would. */
export class MemoryTwin implements TwinReader {
  private readonly files = new Map<string, Uint8Array>()

  constructor(documents: readonly TwinDocument[] = []) {
    for (const d of documents) this.set(d.path, d.content)
  }

  set(path: string, content: string | Uint8Array): void {
    this.files.set(path, typeof content === 'string' ? new TextEncoder().encode(content) : content)
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    return this.files.get(path)
  }

  async readText(path: string): Promise<string | undefined> {
    const bytes = this.files.get(path)
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes)
  }

  async sizeOf(path: string): Promise<number | undefined> {
    return this.files.get(path)?.byteLength
  }

  async has(path: string): Promise<boolean> {
    return this.files.has(path)
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.files.keys()].filter((p) => p.startsWith(prefix)).sort(compareStrings)
  }
}
