import { createHash } from 'node:crypto'
import { strictUtf8 } from '@twinsync/sdk/light'

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

/** UTF-8 without NUL bytes is text (the SDK's one strict decoder); everything else is binary. A byte order mark is kept. */
export function decodeText(bytes: Uint8Array): string | undefined {
  return bytes.includes(0) ? undefined : strictUtf8(bytes)
}

const EMPTY_SHA256 = createHash('sha256').digest('hex')

/**
 * sha256 in hex. The empty content's is known: loading a twin for a snapshot's diary line
 * reads every unchanged mirrored file as empty (the scale root: 19,500 of them, twice).
 */
export function sha256(bytes: Uint8Array | string): string {
  if (bytes.length === 0) return EMPTY_SHA256
  return createHash('sha256').update(bytes).digest('hex')
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex')
}
