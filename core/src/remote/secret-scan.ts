import { createHash } from 'node:crypto'
import { findSecrets, machinePathOf } from '@twinsync/sdk'
import { BatchReader, runGit } from '../twin/git.js'

export interface PushSecretFinding {
  /** Where, in words that never contain the secret: "filesystem/etc/app.conf", "the message of commit 1a2b3c4d5e6f". */
  path: string
  /** The git object that holds it. */
  commit: string
  /** 1-based line of the secret in that object's text. */
  line: number
  /** The detector's rule ("private-key", "credential-assignment"…), or "mirror-token". Never the value. */
  rule: string
}

/** "etc/app.env:3 (credential-assignment)": where, and which rule; never the value. */
export function describePushFinding(f: PushSecretFinding): string {
  return `${f.path}:${f.line} (${f.rule})`
}

/** What a push sends: the branch and every tag, minus what the mirror is known to have. */
export interface PushContent {
  refs: string[]
  /** Refs whose objects the mirror already has (its branch as last fetched or pushed). */
  known: string[]
}

interface Hit {
  rule: string
  line: number
}

/** Every finding in the text (each one reported: a refusal lists them all), never the value. */
type Detector = (text: string, path: string | undefined) => Promise<Hit[]>

/**
 * Everything a push would send, checked for secrets before anything leaves: every object the
 * pushed refs reach that the mirror lacks (`git rev-list --objects`), so merges and side
 * commits behind a tag are included; every file version and symlink target (blobs); every file
 * and folder name (trees); commit and annotated tag messages with their headers; the names of
 * the pushed refs. Base64-wrapped text is unwrapped and looked at again. The files provider
 * keeps secrets out already; this is the last look.
 */
export async function scanPushForSecrets(dir: string, content: PushContent, token: string | undefined): Promise<PushSecretFinding[]> {
  const detect = withUnwrapping(detector(token))
  const findings: PushSecretFinding[] = []
  for (const ref of content.refs) {
    for (const hit of await detect(ref, undefined)) findings.push({ path: `a ref name (${ref.startsWith('refs/tags/') ? 'tag' : 'branch'})`, commit: '', ...hit })
  }
  if (content.refs.length === 0) return findings
  const listed = await runGit(dir, ['rev-list', '--objects', ...content.refs, '--not', ...content.known, '--'])
  // "<id> <path>" per object; a path is only a label for the report, names are read from trees.
  const objects = new Map<string, string>()
  for (const line of listed.split('\n')) {
    const m = /^([0-9a-f]{40,64})(?: (.*))?$/.exec(line)
    if (m !== null && !objects.has(m[1] as string)) objects.set(m[1] as string, m[2] ?? '')
  }
  const reader = new BatchReader(dir)
  try {
    const read = await Promise.all([...objects.keys()].map(async (id) => [id, await reader.readObject(id)] as const))
    const shipped = packagesFiles(read.map(([id, object]) => ({ label: objects.get(id) ?? '', object })))
    for (const [id, object] of read) {
      if (object === undefined) continue
      const label = objects.get(id) ?? ''
      const short = id.slice(0, 12)
      if (object.type === 'blob') {
        // latin1 keeps every byte one character, so binary blobs are searched too.
        const text = Buffer.from(object.bytes).toString('latin1')
        const hits = await detect(text, label === '' ? undefined : label)
        if (hits.length === 0) continue
        if (isShipped(shipped, label, object.bytes)) continue
        const where = label !== '' && (await detect(label, undefined)).length === 0 ? label : `a file (blob ${short})`
        for (const hit of hits) findings.push({ path: where, commit: id, ...hit })
      } else if (object.type === 'tree') {
        for (const name of treeNames(object.bytes)) {
          const hits = await detect(name, undefined)
          if (hits.length === 0) continue
          const folder = label === '' ? 'the top folder' : (await detect(label, undefined)).length === 0 ? `${label}/` : `a folder (tree ${short})`
          for (const hit of hits) findings.push({ path: `a file or folder name in ${folder}`, commit: id, rule: hit.rule, line: 1 })
        }
      } else if (object.type === 'commit' || object.type === 'tag') {
        for (const hit of await detect(Buffer.from(object.bytes).toString('utf8'), undefined)) findings.push({ path: `the ${object.type} object ${short}`, commit: id, ...hit })
      }
    }
  } finally {
    reader.close()
  }
  return findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line))
}

/**
 * The files a package ships byte for byte, as the files manifests being pushed record them: path
 * and sha256 of each entry whose origin is `package-unmodified` (the snapshot compared its md5
 * with dpkg's). Such a file is the same on every machine with that package, so nothing private,
 * and the files provider mirrors it even when the detector flags it: OpenSSL's example `secret =
 * pass:insta` in /etc/ssl/openssl.cnf, on nearly every Debian machine. Without this the push of
 * any such twin was refused. The sha256 ties the exemption to those exact bytes: any other
 * version of the file at that path is scanned.
 */
function packagesFiles(objects: ReadonlyArray<{ label: string; object: { type: string; bytes: Uint8Array } | undefined }>): Set<string> {
  const shipped = new Set<string>()
  for (const { label, object } of objects) {
    if (object?.type !== 'blob' || !/^system\/files\/manifest(?:\.json|\/\d+\.json)$/.test(label)) continue
    let manifest: unknown
    try {
      manifest = JSON.parse(Buffer.from(object.bytes).toString('utf8'))
    } catch {
      continue
    }
    const entries = (manifest as { entries?: unknown }).entries
    if (!Array.isArray(entries)) continue
    for (const e of entries as Array<Record<string, unknown>>) {
      if (e?.origin === 'package-unmodified' && e.secret !== true && typeof e.path === 'string' && typeof e.sha256 === 'string') shipped.add(`${e.path}\0${e.sha256}`)
    }
  }
  return shipped
}

function isShipped(shipped: Set<string>, label: string, bytes: Uint8Array): boolean {
  if (shipped.size === 0) return false
  const path = machinePathOf(label)
  return path !== undefined && shipped.has(`${path}\0${createHash('sha256').update(bytes).digest('hex')}`)
}

/** The names in a raw tree object: "<mode> <name>\0<binary id>" repeated. */
function treeNames(bytes: Uint8Array): string[] {
  const buf = Buffer.from(bytes)
  const names: string[] = []
  let at = 0
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at)
    const nul = buf.indexOf(0, space)
    if (space < 0 || nul < 0) break
    names.push(buf.subarray(space + 1, nul).toString('utf8'))
    // The id is 20 bytes (SHA-1) or 32 (SHA-256); a twin repository uses git's default, SHA-1.
    at = nul + 1 + 20
  }
  return names
}

/** The SDK's one detector (the same rules the providers use), plus the mirror's own token. */
function detector(token: string | undefined): Detector {
  return async (text, path) => {
    const hits: Hit[] = []
    if (token !== undefined && token.length >= 8) {
      for (let at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + token.length)) hits.push({ rule: 'mirror-token', line: lineAt(text, at) })
    }
    for (const f of await findSecrets(text, path === undefined ? {} : { path })) hits.push({ rule: f.rule, line: f.line })
    return hits
  }
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length
}

// Runs of base64 (standard or URL-safe, possibly wrapped over lines) long enough to hide a key.
const BASE64_RUN = /[A-Za-z0-9+/_-]{20,}(?:={0,2})(?:\s*\n\s*[A-Za-z0-9+/_-]+={0,2})*/g

/** Look at the text, then at what its base64 runs decode to (twice: base64 of base64). */
function withUnwrapping(detect: Detector, depth = 2): Detector {
  return async (text, path) => {
    const hits = await detect(text, path)
    if (depth === 0) return hits
    const seen = new Set(hits.map((h) => h.line))
    for (const match of text.matchAll(BASE64_RUN)) {
      const run = match[0].replace(/\s+/g, '')
      if (run.length < 24) continue
      const line = lineAt(text, match.index)
      if (seen.has(line)) continue // that line is reported already
      const decoded = Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1')
      const inner = (await withUnwrapping(detect, depth - 1)(decoded, undefined))[0]
      if (inner === undefined) continue
      seen.add(line)
      hits.push({ rule: inner.rule.endsWith('(base64)') ? inner.rule : `${inner.rule} (base64)`, line })
    }
    return hits.sort((a, b) => a.line - b.line)
  }
}
