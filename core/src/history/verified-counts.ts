import { createHmac, randomBytes } from 'node:crypto'
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sameText } from './count-record.js'

/**
 * Speed: counts trailers this twin's key has already verified (count-record.ts), remembered in
 * the twin's local cache (`.git/twinsync/cache`, never committed, never pushed or pulled), so
 * `history --limit 1000` does not make 1,000 HMACs every run (about 12,000 instructions of
 * OpenSSL set-up a check, 40 M of the run's 447 M, session 20; figures in docs/architecture.md).
 *
 * Trust: an entry is the whole text a signature covers (the parent's tree, the commit's tree,
 * the counts fields) with the signature itself, not a commit id. A commit is taken as verified
 * only when its trailer, parent tree and tree read now are exactly an entry: the same input to
 * the same HMAC with the same key gives the same answer, so a forged or rewritten commit (other
 * counts, another tree, a `refs/replace` object shown under a verified commit's id) is checked
 * with the key as before. The file carries an HMAC of its entries with the twin key: a file
 * another key wrote (the key changed), a truncated, edited or corrupt one, or one written by
 * anyone without the key, is ignored whole and written again.
 */

const FILE = 'verified-counts-v1'
const HEADER = 'twinsync-verified-counts 1'
/** Entries kept: every trailer a `history --limit 5000` checks. Those used last run come first. */
const MAX_ENTRIES = 5000

export class VerifiedCounts {
  private readonly used = new Set<string>()
  private added = false

  private constructor(
    private readonly file: string,
    private readonly key: Buffer,
    private readonly known: Set<string>,
  ) {}

  /** The entries in `cacheDir` written with `key`; none when there is no such file or it fails its check. */
  static open(cacheDir: string, key: Buffer): VerifiedCounts {
    const file = join(cacheDir, FILE)
    return new VerifiedCounts(file, key, readEntries(file, key))
  }

  /** Whether this exact entry was verified with this key before. */
  has(entry: string): boolean {
    if (!this.known.has(entry)) return false
    this.used.add(entry)
    return true
  }

  /** An entry just verified with the key. */
  add(entry: string): void {
    this.used.add(entry)
    if (!this.known.has(entry)) this.added = true
  }

  /** Written only when something new was verified; a failure (a read-only twin) only costs time. */
  save(): void {
    if (!this.added) return
    const entries = [...new Set([...this.used, ...this.known])].slice(0, MAX_ENTRIES)
    const body = entries.map((e) => `${e}\n`).join('')
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}`
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 })
      writeFileSync(temp, `${HEADER} ${macOf(this.key, body)}\n${body}`, { mode: 0o600, flag: 'wx' })
      renameSync(temp, this.file)
    } catch {
      rmSync(temp, { force: true })
    }
  }
}

function macOf(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(`${FILE}\n`).update(body).digest('hex')
}

function readEntries(file: string, key: Buffer): Set<string> {
  let text: string
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      text = readFileSync(fd, 'latin1')
    } finally {
      closeSync(fd)
    }
  } catch {
    return new Set()
  }
  const end = text.indexOf('\n')
  const header = text.slice(0, end)
  const body = text.slice(end + 1)
  if (end < 0 || !header.startsWith(`${HEADER} `)) return new Set()
  // Compared as text: both are 64 hex digits, the expected one a secret function of the body.
  if (!sameText(header.slice(HEADER.length + 1), macOf(key, body))) return new Set()
  const entries = body.split('\n')
  entries.pop()
  return new Set(entries)
}
