import { createHash } from 'node:crypto'

/** How a regular file's bytes are kept in the twin. */
export type ContentKind =
  /** Copied to filesystem/<path>. */
  | 'mirrored'
  /** Not text: recorded (size, hash) but not copied. */
  | 'binary'
  /** Larger than maxFileSize: recorded (size, hash) but not copied. */
  | 'too-large'
  /** A secret: recorded as present (size, metadata, keyed hash), never copied. */
  | 'secret'

/** UTF-8 without NUL bytes is text; everything else is binary. A byte order mark is kept. */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return undefined
  }
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex')
}
