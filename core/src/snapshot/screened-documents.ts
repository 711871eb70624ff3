import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Diagnostic, TwinDocument } from '@twinsync/sdk'
import { commonEnds, findSecrets, SECRET_RULES_VERSION } from '@twinsync/sdk/light'
import type { SnapshotDraft } from '../twin/atomic-snapshot.js'
import { writeRecord } from '../twin/quick-status.js'
import { isScreened, screenDocument } from './secret-guard.js'

const MARKER = 'screened-with-rules'

/**
 * Speed: a provider's document that the twin's HEAD already holds byte for byte is not screened
 * for secrets again. The copy in HEAD is what screening made of it when it was written, so the
 * result would be the same and no new bytes reach a commit. Measured on the Debian server root
 * (unchanged snapshot): screening every document cost 85–110 ms a run, this check under 5 ms.
 *
 * A large document HEAD holds another version of is screened only around what changed (see
 * changedWindow): on the scale root a one-file snapshot screened its whole 8.6 MB files
 * manifest, 150–180 ms of CPU, for a few changed lines; now about 18 ms with the read of HEAD's
 * copy (CPU profiles).
 *
 * It holds only while the secret rules are the ones HEAD's copies were screened with: the
 * rules' version is kept in the twin's cache, and a snapshot under other rules screens every
 * document again. Never when the working twin has edits: a hand edit in HEAD's place was not
 * screened by TwinSync.
 */
export class ScreenedDocuments {
  private constructor(
    private readonly cacheDir: string,
    private readonly trusted: boolean,
  ) {}

  static open(cacheDir: string, options: { edited: boolean }): ScreenedDocuments {
    let rules: string | undefined
    try {
      rules = readFileSync(join(cacheDir, MARKER), 'utf8').trim()
    } catch {
      rules = undefined
    }
    return new ScreenedDocuments(cacheDir, !options.edited && rules === String(SECRET_RULES_VERSION))
  }

  /** Whether this document needs no screening: HEAD holds exactly it, screened under these rules. */
  alreadyScreened(draft: SnapshotDraft, doc: Parameters<SnapshotDraft['holds']>[0]): boolean {
    return this.trusted && draft.holds(doc)
  }

  /**
   * Screen a document (screenDocument): a large one HEAD holds another version of only in a
   * window around what changed, when that window holds no finding; otherwise whole, as always.
   */
  async screen(draft: SnapshotDraft, doc: TwinDocument, provider: string): Promise<{ doc: TwinDocument; diagnostics: Diagnostic[] }> {
    const head = this.trusted && doc.content.length >= WINDOWED_FROM ? await draft.headBytes(doc.path) : undefined
    return screenAround(head, doc, provider)
  }

  /** Record the rules every document of the new tree was screened with. */
  async remember(): Promise<void> {
    if (this.trusted) return
    // Losing the record only costs time: the next snapshot screens everything again (so no fsync: writeRecord).
    writeRecord(join(this.cacheDir, MARKER), `${SECRET_RULES_VERSION}\n`)
  }
}

/**
 * screenDocument, but when `head` (HEAD's copy of the document, screened under these rules) is
 * given, only the window around what changed (changedWindow) is searched first: no finding
 * there, and the document is kept as it is; a finding, and the whole document is screened and
 * redacted as always. Either way the result is screenDocument's.
 */
export async function screenAround(head: Uint8Array | undefined, doc: TwinDocument, provider: string): Promise<{ doc: TwinDocument; diagnostics: Diagnostic[] }> {
  if (head !== undefined && isScreened(doc, provider)) {
    const next = typeof doc.content === 'string' ? Buffer.from(doc.content) : Buffer.from(doc.content.buffer, doc.content.byteOffset, doc.content.byteLength)
    const window = changedWindow(Buffer.from(head.buffer, head.byteOffset, head.byteLength), next)
    if (window !== 'whole' && (await findSecrets(next.toString('utf8', window.start, window.end), { path: doc.path })).length === 0) return { doc, diagnostics: [] }
  }
  return screenDocument(doc, provider)
}

/**
 * Documents at least this large (characters) are screened around what changed. Speed (issue 22,
 * session 31): 16 KB, was 64 KB, so the minbase root's files manifest (62 KB) is screened
 * around its changed entry too: its one-file snapshot 815–817 → 742–743 M instructions of Node
 * (callgrind, warm, interleaved, load 6–9); the screening tests pass as they did at 64 KB.
 */
export const WINDOWED_FROM = 16 * 1024
/** Lines the window takes on either side of the change, counting only lines with a printable ASCII character. */
export const MARGIN_LINES = 64
/**
 * Rules whose match can run on without bound start with one of these (the private key's
 * `BEGIN … PRIVATE KEY`, `BEGIN OpenVPN Static key` or `BEGIN OpenVPN tls-crypt-v2` up to its END or the end of the text, the
 * preset's PEM block of up to 10,000 characters, PuTTY's `Private-Lines:` and its lines of
 * base64): one outside the window and the whole document is screened.
 */
const LONG_REACH = ['PRIVATE KEY', 'OpenVPN Static key', 'OpenVPN tls-crypt-v2', 'Private-Lines'].map((m) => Buffer.from(m, 'latin1'))
/**
 * Rules that read context at any distance, or whose match must reach its own end: a Kubernetes
 * Secret's values (YAML: a `data:`/`stringData:` line any number of lines above and `kind:
 * Secret` anywhere in its YAML document; JSON: the `"data": { … }` object whole, and `"kind":
 * "Secret"` in the object around it) and Consul's `tokens { … }` block (its body whole, an `acl`
 * block up to 2,000 characters before). Each needs this word (its `needs`), so a document that
 * holds one anywhere is screened whole (session 30: a Secret's changed value more than
 * MARGIN_LINES lines below its `data:` line was kept by the window).
 */
const WHOLE_WITH = ['Secret', 'tokens'].map((m) => Buffer.from(m, 'latin1'))

/**
 * The part of `next` to screen, given that `head` (HEAD's copy of the same document, screened
 * under the same rules) differs from it only there: the bytes from the first to the last that
 * differ (the common beginning and end of both left out), widened to whole lines and then by
 * MARGIN_LINES counted lines on each side. 'whole' when a long-reaching rule's start lies
 * outside it, or when it is most of the document anyway.
 *
 * Why a secret in `next` cannot be missed (SECRET_RULES in sdk/src/secrets.ts and the
 * preset's rules, read for this):
 * - Text outside the window is byte for byte in HEAD's copy, which was screened: a secret lying
 *   wholly there was redacted there (HEAD's line then differs from the provider's, so that line
 *   is inside the window after all) or is none.
 * - A secret reaching into the changed part from outside would have to span MARGIN_LINES
 *   counted lines. Every rule's match is either on one line, or tokens separated by whitespace
 *   (`machine \S+ login \S+ password \S+`, a key, `:` and a value, `--flag value`): at most 6
 *   lines with a printable ASCII character, however many blank lines lie between. The rules
 *   that may run on longer are found by their start (LONG_REACH); those that read context
 *   at any distance by a word they need (WHOLE_WITH).
 * - The window starts at a line's start and ends after a line's end, as lines of the whole text
 *   do, so anchors (`^`, `$`, `\b`, the assignment rule's look-behind) see the same; and the
 *   search through the window is in step with the search through the whole text long before
 *   the change (a one-line rule's candidates end at each line's end; a multi-line one's within
 *   6 counted lines).
 * - A finding in the window, even one the whole text would not give (a private key cut at the
 *   window's end), only means the whole document is screened and redacted as before.
 */
export function changedWindow(head: Buffer, next: Buffer): { start: number; end: number } | 'whole' {
  const { prefix, suffix } = commonEnds(head, next)
  let start = lineStart(next, prefix)
  let end = lineEnd(next, Math.max(prefix, next.length - suffix))
  for (let n = 0; n < MARGIN_LINES && start > 0; ) {
    const before = lineStart(next, start - 1)
    if (printable(next, before, start)) n++
    start = before
  }
  for (let n = 0; n < MARGIN_LINES && end < next.length; ) {
    const lineEndAt = lineEnd(next, end)
    if (printable(next, end, lineEndAt)) n++
    end = lineEndAt
  }
  if (end - start > next.length / 2) return 'whole'
  for (const marker of WHOLE_WITH) if (next.indexOf(marker) >= 0) return 'whole'
  for (const marker of LONG_REACH) {
    const first = next.indexOf(marker)
    if ((first >= 0 && first < start) || next.indexOf(marker, end) >= 0) return 'whole'
  }
  return { start, end }
}

/** The start of the line byte `at` lies on (`at` may be the text's length: its last line's end). */
function lineStart(bytes: Buffer, at: number): number {
  // lastIndexOf counts a negative offset from the end: the first line is said so.
  return at <= 0 ? 0 : bytes.lastIndexOf(0x0a, at - 1) + 1
}

/** The end of the line `at` lies on, after its newline (or the end of the text). */
function lineEnd(bytes: Buffer, at: number): number {
  if (at >= bytes.length) return bytes.length
  const nl = bytes.indexOf(0x0a, at)
  return nl < 0 ? bytes.length : nl + 1
}

/** Whether bytes[from, to) hold a printable ASCII character (not space). */
function printable(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = bytes[i] as number
    if (b > 0x20 && b < 0x7f) return true
  }
  return false
}
