import { sha256 } from '../sha256.js'
import type { TwinReader } from '@twinsync/sdk'
import { compareStrings, findSecrets, machinePathOf } from '@twinsync/sdk/light'
import { BatchReader, runGitBytes } from '../twin/git.js'
import { SECRETLESS_OWN_WORDS } from '../vocabulary.js'

export interface PushSecretFinding {
  /** Where, in words that never contain the secret: "filesystem/etc/app.conf", "the message of commit 1a2b3c4d5e6f". */
  path: string
  /** The git object that holds it. */
  commit: string
  /** 1-based line of the secret in that object's text; 0: the whole file, secret by its path (a provider's path rule). */
  line: number
  /** The detector's rule ("private-key", "credential-assignment"…), "mirror-token", or a provider's path rule in words. Never the value. */
  rule: string
}

/** "etc/app.env:3 (credential-assignment)", "etc/openvpn/creds.txt (OpenVPN credential file…)": where, and which rule; never the value. */
export function describePushFinding(f: PushSecretFinding): string {
  return `${f.path}${f.line > 0 ? `:${f.line}` : ''} (${f.rule})`
}

/**
 * The providers' answer (Provider.secretPaths): which of the twin files one pushed commit adds or
 * changes are secret by their path alone, read from that commit's twin. RemoteService asks the
 * enabled providers; a provider's failure is thrown (nothing unchecked leaves).
 */
export type SecretPathAsker = (paths: readonly string[], twin: TwinReader) => Promise<Array<{ path: string; rule: string }>>

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

/**
 * The pushed refs and, each marked `^`, the known ones: one a line, for git's standard input
 * (`--stdin`), never as arguments. Every local tag is pushed, and as arguments 20,000 tags of 100
 * characters passed the kernel's 2 MiB: every push then failed with E2BIG (session 40). On
 * standard input a line that is not a revision is refused ("bad revision"), never read as a path.
 */
function revisionsOf(content: PushContent): string {
  return [...content.refs, ...content.known.map((ref) => `^${ref}`)].map((ref) => `${ref}\n`).join('')
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
export async function scanPushForSecrets(dir: string, content: PushContent, token: string | undefined, secretPaths?: SecretPathAsker): Promise<PushSecretFinding[]> {
  const detect = withUnwrapping(detector(token))
  const findings: PushSecretFinding[] = []
  for (const ref of content.refs) {
    for (const hit of await detect(ref, undefined)) findings.push({ path: `a ref name (${ref.startsWith('refs/tags/') ? 'tag' : 'branch'})`, commit: '', ...hit })
  }
  if (content.refs.length === 0) return findings
  const listed = (await runGitBytes(dir, ['rev-list', '--objects', '--stdin'], { input: revisionsOf(content) })).toString('utf8')
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
        let text = Buffer.from(object.bytes).toString('utf8')
        // TwinSync's own words, blanked in place (lines keep their numbers): see SECRETLESS_OWN_WORDS.
        if (object.type === 'commit') for (const words of SECRETLESS_OWN_WORDS) text = text.split(words).join(' '.repeat(words.length))
        for (const hit of await detect(text, undefined)) findings.push({ path: `the ${object.type} object ${short}`, commit: id, ...hit })
      }
    }
    const commits = read.flatMap(([id, object]) => (object?.type === 'commit' ? [id] : []))
    if (secretPaths !== undefined && commits.length > 0) {
      for (const f of await pathFindings(dir, reader, content, secretPaths)) {
        const where = (await detect(f.path, undefined)).length === 0 ? f.path : `a file (blob ${f.commit.slice(0, 12)})`
        findings.push({ ...f, path: where })
      }
    }
  } finally {
    reader.close()
  }
  return findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line))
}

/**
 * The files secret by their path among what the push sends: for each pushed commit, the files it
 * adds or changes against each parent (`git log --raw -m --root`: a file copied or renamed to a
 * secret path is new there even when its bytes are known to the mirror), asked of the providers
 * with that commit's twin (its configs name the credential files). Regular files only (a symlink
 * is its target's name). One finding per path and blob.
 *
 * Cost: one `git log` of the pushed commits, then, per commit that changed a file, the providers'
 * reads of its twin through one `git cat-file --batch` with each tree parsed once for the whole
 * push (CommitTwin). A push with no new commit asks nothing. Measured (session 16, the server
 * root's twin, 7 snapshots; wall time on the shared 2-core machine, fastest of 7, the files
 * provider asked): the whole history 1556 ms with the path rules, 1649 ms without (the content
 * scan is the cost, the difference is noise); a one-snapshot push 188 / 187 ms; up to date 14 / 13 ms.
 */
async function pathFindings(dir: string, reader: BatchReader, content: PushContent, ask: SecretPathAsker): Promise<PushSecretFinding[]> {
  const raw = (await runGitBytes(dir, ['log', '--format=%x01%H', '-r', '-m', '--root', '--no-renames', '--raw', '-z', '--no-abbrev', '--stdin'], { input: revisionsOf(content) })).toString('utf8')
  const changed = new Map<string, Map<string, string>>() // commit -> path -> blob
  let commit: string | undefined
  const tokens = raw.split('\0')
  for (let i = 0; i < tokens.length; i++) {
    const token = (tokens[i] as string).replace(/^\n+/, '')
    if (token.startsWith('\x01')) {
      commit = token.slice(1)
      continue
    }
    const meta = /^:\d+ (\d+) [0-9a-f]+ ([0-9a-f]+) ([A-Z])/.exec(token)
    if (meta === null || commit === undefined) continue
    const path = tokens[++i] as string
    if (meta[3] === 'D' || (meta[1] !== '100644' && meta[1] !== '100755')) continue
    let paths = changed.get(commit)
    if (paths === undefined) changed.set(commit, (paths = new Map()))
    paths.set(path, meta[2] as string)
  }
  const trees = new TreeCache(reader)
  const found = new Map<string, PushSecretFinding>()
  for (const [id, paths] of changed) {
    const twin = await CommitTwin.of(trees, id)
    if (twin === undefined) continue
    for (const hit of await ask([...paths.keys()].sort(compareStrings), twin)) {
      // A file this commit did not change that it makes secret (a config of it names the file).
      const blob = paths.get(hit.path) ?? (await twin.fileId(hit.path))
      if (blob === undefined) continue
      found.set(`${hit.path}\0${blob}\0${hit.rule}`, { path: hit.path, commit: blob, line: 0, rule: hit.rule })
    }
  }
  return [...found.values()]
}

interface TreeEntry {
  mode: string
  id: string
}

/** Tree objects read and parsed once for a whole push: commit after commit shares most of them. */
class TreeCache {
  private readonly trees = new Map<string, Promise<Map<string, TreeEntry> | undefined>>()

  constructor(readonly reader: BatchReader) {}

  entries(id: string): Promise<Map<string, TreeEntry> | undefined> {
    let tree = this.trees.get(id)
    if (tree === undefined) {
      tree = this.reader.readObject(id).then((o) => (o?.type === 'tree' ? treeEntries(o.bytes) : undefined))
      this.trees.set(id, tree)
    }
    return tree
  }
}

/** The twin at one commit, read lazily through the push's TreeCache (only the folders a provider looks at). */
class CommitTwin implements TwinReader {
  private constructor(
    private readonly trees: TreeCache,
    private readonly root: string,
  ) {}

  static async of(trees: TreeCache, commit: string): Promise<CommitTwin | undefined> {
    const object = await trees.reader.readObject(commit)
    const root = object?.type === 'commit' ? /^tree ([0-9a-f]{40,64})$/m.exec(Buffer.from(object.bytes).toString('latin1'))?.[1] : undefined
    return root === undefined ? undefined : new CommitTwin(trees, root)
  }

  /** A regular file's bytes; undefined for a folder, a symlink or nothing there. */
  async read(path: string): Promise<Uint8Array | undefined> {
    const entry = await this.entry(path)
    if (entry === undefined || (entry.mode !== '100644' && entry.mode !== '100755')) return undefined
    const object = await this.trees.reader.readObject(entry.id)
    return object?.type === 'blob' ? object.bytes : undefined
  }

  async readText(path: string): Promise<string | undefined> {
    const bytes = await this.read(path)
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8')
  }

  /** A regular file's blob id, or undefined. */
  async fileId(path: string): Promise<string | undefined> {
    const entry = await this.entry(path)
    return entry !== undefined && (entry.mode === '100644' || entry.mode === '100755') ? entry.id : undefined
  }

  async list(prefix: string): Promise<string[]> {
    const folder = prefix.replace(/\/+$/, '')
    const start = folder === '' ? { mode: '40000', id: this.root } : await this.entry(folder)
    if (start?.mode !== '40000') return []
    const out: string[] = []
    const walk = async (id: string, at: string): Promise<void> => {
      for (const [name, e] of (await this.trees.entries(id)) ?? []) {
        const path = at === '' ? name : `${at}/${name}`
        if (e.mode === '40000') await walk(e.id, path)
        else out.push(path)
      }
    }
    await walk(start.id, folder)
    return out.filter((p) => p.startsWith(prefix)).sort(compareStrings)
  }

  private async entry(path: string): Promise<TreeEntry | undefined> {
    let tree: string | undefined = this.root
    let found: TreeEntry | undefined
    for (const name of path.split('/')) {
      if (tree === undefined) return undefined
      found = (await this.trees.entries(tree))?.get(name)
      if (found === undefined) return undefined
      tree = found.mode === '40000' ? found.id : undefined
    }
    return found
  }
}

/** A raw tree object's entries by name, each with its mode and id (treeRecords). */
function treeEntries(bytes: Uint8Array): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>()
  for (const { mode, name, id } of treeRecords(bytes)) {
    // An id cut short ends the tree (git's objects are whole; a damaged one is read no further).
    if (id.length < 40) break
    entries.set(name, { mode, id })
  }
  return entries
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
  return path !== undefined && shipped.has(`${path}\0${sha256(bytes)}`)
}

/** The names in a raw tree object: "<mode> <name>\0<binary id>" repeated. */
function treeNames(bytes: Uint8Array): string[] {
  return [...treeRecords(bytes)].map((r) => r.name)
}

/**
 * A raw tree object's records, "<mode> <name>\0<binary id>" repeated: the one parse of a tree
 * here (the names scanned, the entries a provider's reads walk). The id is 20 bytes (SHA-1) or 32
 * (SHA-256); a twin repository uses git's default, SHA-1.
 */
function* treeRecords(bytes: Uint8Array): Generator<{ mode: string; name: string; id: string }> {
  const buf = Buffer.from(bytes)
  let at = 0
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at)
    const nul = buf.indexOf(0, space)
    if (space < 0 || nul < 0) break
    yield { mode: buf.subarray(at, space).toString('latin1'), name: buf.subarray(space + 1, nul).toString('utf8'), id: buf.subarray(nul + 1, nul + 21).toString('hex') }
    at = nul + 1 + 20
  }
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
