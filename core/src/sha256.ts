import { createHash } from 'node:crypto'

/** The sha256 of a text (as UTF-8) or of bytes, in hex: the core's one such helper (keys, digests, fingerprints). */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}
