import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redactSecrets, stableStringify } from '@twinsync/sdk'
import { changedWindow, MARGIN_LINES, ScreenedDocuments, screenAround, WINDOWED_FROM } from '../src/snapshot/screened-documents.js'
import { screenDocument } from '../src/snapshot/secret-guard.js'
import { SnapshotDraft } from '../src/twin/atomic-snapshot.js'
import { fakeChars, plantedFiles } from '../../test/fixtures/secrets/samples.js'

/** A manifest-like document of `n` entries (about 300 bytes each), as the files provider writes it. */
function manifest(n: number, seed: string, change?: { at: number; sha: string }): string {
  const entries = Array.from({ length: n }, (_, i) => ({
    content: 'mirrored',
    gid: 0,
    mode: '0644',
    path: `/etc/app/file-${String(i).padStart(5, '0')}.conf`,
    sha256: change?.at === i ? change.sha : fakeChars(`${seed}${i}`, 64, '0123456789abcdef'),
    size: i,
    type: 'file',
    uid: 0,
  }))
  return stableStringify({ entries, leftovers: [], version: 1 })
}

/** Insert `snippet` before line `line` of `text`. */
function insertAt(text: string, line: number, snippet: string): string {
  const lines = text.split('\n')
  lines.splice(Math.min(line, lines.length - 1), 0, snippet)
  return lines.join('\n')
}

/** Multi-line secrets whose parts are lines apart (blank lines between), and one-line ones. */
function snippets(seed: string): string[] {
  const v = fakeChars(seed, 18)
  return [
    `machine mail.example.org\n\n\n\n\n\n\n\n\n\n\n\nlogin app\n\n\n\npassword ${v}`,
    `"auth"\n:\n"${Buffer.from(`deploy:${v}`).toString('base64')}"`,
    `aws_secret_access_key\n=\n${fakeChars(seed, 40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}`,
    `    "path": "/etc/app/password=${v}.conf",`,
    ...plantedFiles()
      .filter((p) => p.kind !== 'htpasswd')
      .slice(0, 12)
      .map((p) => p.text.trimEnd()),
  ]
}

/** Secrets in two parts, lines apart: the part before and the part after. */
function split(seed: string): Array<[string, string]> {
  const v = fakeChars(seed, 18)
  return [
    [`machine\nmail.example.org\n\n\nlogin\napp`, `password\n${v}`],
    [`"auth"`, `:\n"${Buffer.from(`deploy:${v}`).toString('base64')}"`],
    [`aws_secret_access_key`, `=\n${fakeChars(seed, 40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}`],
  ]
}

describe('screening a large document only around what changed', () => {
  it('gives exactly what screening the whole document gives, wherever a secret lies (600 random cases)', async function () {
    this.timeout(600_000)
    const lines = manifest(400, 'base').split('\n').length
    let rng = 7
    const random = (n: number) => {
      rng = (Math.imul(rng, 1103515245) + 12345) >>> 0
      return (rng >>> 16) % n
    }
    let windowed = 0
    for (let trial = 0; trial < 600; trial++) {
      const all = snippets(`s${trial}`)
      const changedEntry = random(400)
      const old = manifest(400, 'base')
      let next = manifest(400, 'base', { at: changedEntry, sha: fakeChars(`new${trial}`, 64, '0123456789abcdef') })
      // A secret somewhere: before, at or after the change, near it or far, in both versions or only the new one.
      const snippet = all[random(all.length)] as string
      const changedLine = 2 + changedEntry * 10 + 7
      const offsets = [0, 1, 3, 6, MARGIN_LINES - 2, MARGIN_LINES, MARGIN_LINES + 3, 200, 1000]
      const offset = (offsets[random(offsets.length)] as number) * (random(2) === 0 ? -1 : 1)
      const line = Math.max(1, Math.min(lines - 2, changedLine + offset))
      const inBoth = random(2) === 0
      let before = inBoth ? insertAt(old, line, snippet) : old
      next = insertAt(next, line, snippet)
      if (random(2) === 0) {
        // A secret the change completes, its tokens on lines of their own (blank lines between
        // maybe): its first part unchanged, its last part the only change; or the other way round.
        const [first, last] = split(`p${trial}`)[random(3)] as [string, string]
        const blanks = '\n'.repeat([0, 1, 200][random(3)] as number)
        const at = 2 + random(400) * 10
        if (random(2) === 0) {
          before = insertAt(old, at, `${first}${blanks}`)
          next = insertAt(old, at, `${first}${blanks}\n${last}`)
        } else {
          before = insertAt(old, at, `${blanks}${last}`)
          next = insertAt(old, at, `${first}\n${blanks}${last}`)
        }
      }
      // HEAD holds what screening made of the old version (the window's premise).
      const head = Buffer.from(await redactSecrets(before, { path: 'system/files/manifest.json' }))
      const doc = { path: 'system/files/manifest.json', content: next }
      assert.ok(next.length >= WINDOWED_FROM)
      const whole = await screenDocument(doc, 'files')
      const around = await screenAround(head, doc, 'files')
      assert.equal(String(around.doc.content), String(whole.doc.content), `trial ${trial}: ${snippet.slice(0, 40)} at ${offset} lines, in both: ${inBoth}`)
      assert.deepEqual(around.diagnostics, whole.diagnostics)
      if (changedWindow(head, Buffer.from(next)) !== 'whole') windowed++
    }
    assert.ok(windowed > 300, `most cases were screened by window (${windowed} of 600)`)
  })

  it('takes the changed lines and their margin, and the whole document when a long-reaching rule starts outside', () => {
    const old = manifest(1000, 'base')
    const next = manifest(1000, 'base', { at: 500, sha: 'f'.repeat(64) })
    const window = changedWindow(Buffer.from(old), Buffer.from(next))
    assert.notEqual(window, 'whole')
    if (window === 'whole') return
    const text = next.slice(window.start, window.end)
    assert.ok(text.includes('f'.repeat(64)))
    assert.ok(next.slice(0, window.start).endsWith('\n') || window.start === 0, 'starts at a line')
    assert.ok(text.endsWith('\n'), 'ends after a line')
    const printable = (t: string) => t.split('\n').filter((l) => /[!-~]/.test(l)).length
    assert.ok(printable(text) >= 2 * MARGIN_LINES && printable(text) < 2 * MARGIN_LINES + 12, `${printable(text)} lines`)
    // Blank lines do not count toward the margin.
    const blank = insertAt(next, 2 + 500 * 10 - 20, '\n'.repeat(300))
    const wide = changedWindow(Buffer.from(insertAt(old, 2 + 500 * 10 - 20, '\n'.repeat(300))), Buffer.from(blank))
    assert.ok(wide !== 'whole' && printable(blank.slice(wide.start, wide.end)) >= 2 * MARGIN_LINES)
    for (const marker of ['-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN OpenVPN Static key V1-----', '-----BEGIN OpenVPN tls-crypt-v2 client key-----', 'Private-Lines: 14']) {
      assert.equal(changedWindow(Buffer.from(insertAt(old, 3, marker)), Buffer.from(insertAt(next, 3, marker))), 'whole', `${marker} before`)
      assert.equal(changedWindow(Buffer.from(insertAt(old, 9000, marker)), Buffer.from(insertAt(next, 9000, marker))), 'whole', `${marker} after`)
    }
    // Changes far apart: the window between them is most of the document.
    assert.equal(changedWindow(Buffer.from(manifest(1000, 'base')), Buffer.from(manifest(1000, 'other'))), 'whole')
    // At the very start and end.
    assert.notEqual(changedWindow(Buffer.from(`x${old}`), Buffer.from(old)), 'whole')
    assert.notEqual(changedWindow(Buffer.from(old), Buffer.from(`${old}{}\n`)), 'whole')
  })
})

describe('screening around a change: rules that read context at any distance', () => {
  const value = 'c3VwZXJzZWNyZXRwYXNzd29yZDEyMzQ1Ng=='
  const cases: Array<[string, (v: string) => string]> = [
    ['a Kubernetes Secret in YAML, its data: line far above', (v) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n${lines((i) => `  k${i}: ""`)}\n  changed: ${v}\n${lines((i) => `  m${i}: ""`)}\n`],
  ]
  for (const [what, make] of cases) {
    it(`finds ${what} as screening the whole document does`, async () => {
      const head = Buffer.from(await redactSecrets(make('cGxhaW4='), { path: 'system/big.conf' }))
      const doc = { path: 'system/big.conf', content: make(value) }
      assert.ok(doc.content.length >= WINDOWED_FROM)
      const whole = await screenDocument(doc, 'cron')
      assert.ok(!String(whole.doc.content).includes(value), 'the whole document: redacted')
      const around = await screenAround(head, doc, 'cron')
      assert.ok(!String(around.doc.content).includes(value), 'around the change: redacted too')
      assert.deepEqual(around.diagnostics, whole.diagnostics)
    })
  }
})

/** 3,000 lines made by `line`, joined: over 64 KB, the change in their middle far from both ends. */
function lines(line: (i: number) => string): string {
  return Array.from({ length: 3000 }, (_, i) => line(i)).join('\n')
}

describe('a snapshot draft screening against HEAD', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-window-'))
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir })
    git('init', '-q')
    mkdirSync(join(dir, 'system'))
    writeFileSync(join(dir, 'system/big.json'), manifest(400, 'base'))
    git('add', '.')
    git('commit', '-q', '-m', 'first')
    mkdirSync(join(dir, '.git', 'twinsync'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('reads HEAD\'s copy once (the diary line reuses it), and screens a new secret whole', async () => {
    const cache = join(dir, '.git', 'twinsync', 'cache')
    await ScreenedDocuments.open(cache, { edited: false }).remember()
    const draft = await SnapshotDraft.begin(dir, { edited: false })
    try {
      const screened = ScreenedDocuments.open(cache, { edited: false })
      const changed = { path: 'system/big.json', content: manifest(400, 'base', { at: 10, sha: 'a'.repeat(64) }) }
      assert.equal((await screened.screen(draft, changed, 'files')).doc, changed, 'no secret: kept as it is')
      const secret = `machine db\n\n\nlogin app\npassword ${fakeChars('pw', 16)}`
      const leaking = { path: 'system/big.json', content: insertAt(changed.content, 2 + 10 * 10, secret) }
      const out = await screened.screen(draft, leaking, 'files')
      assert.ok(!String(out.doc.content).includes(fakeChars('pw', 16)))
      assert.equal(out.diagnostics[0]?.code, 'SECRET_REDACTED')
      assert.equal(await draft.headBytes('system/big.json'), await draft.headBytes('system/big.json'), 'read once')
      assert.equal(await draft.headBytes('system/none.json'), undefined)
      draft.closeHeadReader()
      const head = draft.reader('head')
      assert.equal(await head?.readText('system/big.json'), manifest(400, 'base'))
      head?.close()
      // Without a record of these rules (or with hand edits), nothing is trusted: screened whole.
      const untrusted = ScreenedDocuments.open(join(dir, 'elsewhere'), { edited: false })
      assert.equal((await untrusted.screen(draft, changed, 'files')).doc, changed)
    } finally {
      draft.closeHeadReader()
      await draft.discard()
    }
  })
})

describe('a snapshot draft screening against HEAD: documents a rule reads at any distance are screened whole (WHOLE_WITH)', () => {
  // Session 31: each document is over WINDOWED_FROM, HEAD holds what screening made of its old
  // version, and the changed value lies more than MARGIN_LINES counted lines from the context its
  // rule reads (a JSON Secret's `"kind": "Secret"`, a Consul `tokens {` block's opening line), so
  // the window around the change alone finds nothing there: only screening the whole document
  // redacts the value. Each fails with WHOLE_WITH emptied.
  const value = 'c3VwZXJzZWNyZXRwYXNzd29yZDEyMzQ1Ng=='
  const token = '6f1c0a52-93d4-4b7e-a8c2-5e0d917b3f46'
  /** ConfigMaps enough to take a JSON List over WINDOWED_FROM, before the Secret. */
  const configMaps = Array.from({ length: 240 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `app-${i}`, namespace: 'default' }, data: { mode: 'production', replicas: String(i % 5), region: `eu-${i % 3}` } }))
  // [what, path, the document with a value, the new value, the old value]
  const cases: Array<[string, string, (v: string) => string, string, string]> = [
    [
      'a Kubernetes Secret written as JSON (a List of ConfigMaps and a Secret whose labels lie between its "kind" and its data)',
      'system/k8s/app.json',
      (v) =>
        `${JSON.stringify(
          {
            apiVersion: 'v1',
            kind: 'List',
            items: [
              ...configMaps,
              {
                apiVersion: 'v1',
                kind: 'Secret',
                metadata: { name: 'db', namespace: 'default', labels: Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`app.example.org/label-${i}`, `value-${i}`])) },
                type: 'Opaque',
                data: { connection: v, host: 'ZGIuZXhhbXBsZS5vcmc=' },
              },
            ],
          },
          null,
          4,
        )}\n`,
      value,
      'b2xkZXJzZWNyZXRwYXNzd29yZDY1NDMyMQ==',
    ],
    [
      // Its tokens set for the first time (HEAD's were empty, so not redacted: a redacted body
      // would differ whole and the window take in its `tokens {`).
      'a Consul agent configuration (HCL) whose acl { tokens { … } } block notes its tokens in comments',
      'system/consul/consul.hcl',
      (v) =>
        [
          'datacenter = "dc1"',
          'data_dir = "/opt/consul"',
          ...Array.from({ length: 900 }, (_, i) => `service {\n  name = "web-${i}"\n  port = ${8000 + i}\n  tags = ["primary", "v${i % 7}"]\n}`),
          'acl {',
          '  enabled = true',
          '  default_policy = "deny"',
          '  tokens {',
          ...Array.from({ length: 80 }, (_, i) => `    # ${i % 2 === 0 ? 'rotated by the platform team, see the runbook' : `ticket OPS-${4000 + i}: agent token renewed`}`),
          `    agent = "${v}"`,
          '  }',
          '}',
          '',
        ].join('\n'),
      token,
      '',
    ],
  ]
  let dir: string | undefined
  afterEach(() => dir !== undefined && rmSync(dir, { recursive: true, force: true }))
  for (const [what, path, make, secret, before] of cases) {
    it(`redacts the changed value of ${what}`, async () => {
      const old = make(before)
      const next = make(secret)
      assert.ok(next.length >= WINDOWED_FROM, `${next.length} characters`)
      dir = mkdtempSync(join(tmpdir(), 'twinsync-whole-'))
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir })
      git('init', '-q')
      mkdirSync(join(dir, path, '..'), { recursive: true })
      // HEAD holds what screening made of the old version (its value redacted).
      const head = await redactSecrets(old, { path })
      assert.ok(before === '' || !head.includes(before), 'the old value redacted in HEAD')
      writeFileSync(join(dir, path), head)
      git('add', '.')
      git('commit', '-q', '-m', 'first')
      mkdirSync(join(dir, '.git', 'twinsync'))
      const cache = join(dir, '.git', 'twinsync', 'cache')
      await ScreenedDocuments.open(cache, { edited: false }).remember()
      const window = changedWindow(Buffer.from(head), Buffer.from(next))
      const draft = await SnapshotDraft.begin(dir, { edited: false })
      try {
        const doc = { path, content: next }
        const out = await ScreenedDocuments.open(cache, { edited: false }).screen(draft, doc, 'cron')
        assert.ok(!String(out.doc.content).includes(secret), 'the new value redacted')
        assert.equal(out.diagnostics[0]?.code, 'SECRET_REDACTED')
        const whole = await screenDocument(doc, 'cron')
        assert.equal(String(out.doc.content), String(whole.doc.content))
        assert.deepEqual(out.diagnostics, whole.diagnostics)
        // Screened whole for the rule's word (WHOLE_WITH): the window alone finds nothing here.
        assert.equal(window, 'whole', 'screened whole')
      } finally {
        draft.closeHeadReader()
        await draft.discard()
      }
    })
  }
})
