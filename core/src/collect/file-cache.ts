import { readFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ProviderCache } from '@twinsync/sdk'
import { writeFileAtomic } from '@twinsync/sdk'

/** A provider's cache as files in one folder; a key is a file name. */
export class FileCache implements ProviderCache {
  constructor(private readonly dir: string) {}

  async read(key: string): Promise<string | undefined> {
    try {
      // One read and one decode: fs/promises decodes a large value (the files provider's 4 MB
      // stat cache) chunk by chunk into a string of pieces, twice the memory and garbage.
      return readFileSync(join(this.dir, safeKey(key)), 'utf8')
    } catch {
      return undefined
    }
  }

  async write(key: string, value: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await writeFileAtomic(join(this.dir, safeKey(key)), value, { mode: 0o600 })
  }

  /** One read into one buffer, outside V8's heap: freed as soon as the caller drops it. */
  async readBytes(key: string): Promise<Uint8Array | undefined> {
    try {
      return readFileSync(join(this.dir, safeKey(key)))
    } catch {
      return undefined
    }
  }

  async writeBytes(key: string, value: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await writeFileAtomic(join(this.dir, safeKey(key)), value, { mode: 0o600 })
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.dir, safeKey(key)), { force: true })
  }
}

function safeKey(key: string): string {
  return encodeURIComponent(key).replace(/^\.+/, '_')
}
