import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost, RecordingHost, REDACTED, SECRET_RULES_VERSION } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { LogFacts } from '../src/facts/log-facts.js'
import { ProcessFacts } from '../src/facts/process-facts.js'
import { screenDocument, withActualSecrets, writesRedaction } from '../src/snapshot/secret-guard.js'
import { screenAround } from '../src/snapshot/screened-documents.js'
import { ScreenedDocuments } from '../src/snapshot/screened-documents.js'
import { SnapshotDraft } from '../src/twin/atomic-snapshot.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { notesProvider } from './support/notes-provider.js'
import { serviceRig } from './support/service-rig.js'
import { plantedCommandLines, plantedLogLines } from '../../test/fixtures/secrets/samples.js'

describe('secrets in documents other than mirrored files', () => {
  // Session 41 (attack): a token at the start of a line of a JSON string follows the escape's
  // letter ("\\nghp_..."), and the github rule wants no letter before a token: a command's output
  // in the apply journal put a GitHub token into the commit (and a pushed mirror).
  it('finds a token at the start of a line inside a JSON string (the apply journal\'s outputTail), redacts it, the JSON still whole', async () => {
    const token = `ghp_${'aB3dEfGh1jKlMn0pQrStUvWxYz'}0123456789`
    const key = `AKIA${'IOSFODNN7EXAMPL'}Q`
    const journal = JSON.stringify({ steps: [{ id: 'commands:plans/x.yaml#1', outputTail: `ok\n${token}\n\t${key}\nlast line` }] }, null, 2) + '\n'
    const path = 'system/journal/apply-2026-12-06T000000Z.json'
    const { doc, diagnostics } = await screenDocument({ path, content: journal }, 'twinsync')
    const text = String(doc.content)
    assert.ok(!text.includes(token) && !text.includes(key), text)
    assert.equal((JSON.parse(text) as { steps: Array<{ outputTail: string }> }).steps[0]?.outputTail, `ok\n${REDACTED}\n\t${REDACTED}\nlast line`)
    assert.match(diagnostics[0]?.summary ?? '', new RegExp(`redacted at ${path.replace(/[.]/g, '\\.')}:5 \\(github\\)`), 'the line is the document\'s')
    // The snapshot's window around what changed in a large document asks the same.
    const head = Buffer.from(JSON.stringify({ steps: [], pad: 'x'.repeat(20_000) }) + '\n')
    const large = { path, content: JSON.stringify({ steps: [{ outputTail: `ok\n${token}` }], pad: 'x'.repeat(20_000) }) + '\n' }
    assert.ok(!String((await screenAround(head, large, 'twinsync')).doc.content).includes(token))
    // A JSON document's text without such an escape, and other documents, are read as they are.
    const plain = await screenDocument({ path: 'system/startup/cron.json', content: `{"command": "curl -H 'x' ${token}"}\n` }, 'cron')
    assert.ok(!String(plain.doc.content).includes(token))
  })

  it('redacts the values on log lines in place and keeps the rest of each line', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twinsync-logs-'))
    try {
      mkdirSync(join(root, 'var/log'), { recursive: true })
      const lines = plantedLogLines()
      writeFileSync(join(root, 'var/log/syslog'), lines.map((l) => l.text).join('\n') + '\nsshd[1]: Accepted publickey for root\n')
      const { documents } = await new LogFacts().collect({ ctx: createTestContext(root) })
      const syslog = String(documents.find((d) => d.path === 'system/logs/syslog.txt')?.content)
      for (const l of lines) assert.ok(!syslog.includes(l.value), `${l.kind} left in the log`)
      assert.match(syslog, new RegExp(`myapp\\[311\\]: login to db failed: user=app password=${REDACTED} retrying`))
      assert.match(syslog, /sshd\[1\]: Accepted publickey for root/)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('redacts credentials on process command lines before cutting them', async function () {
    const planted = plantedCommandLines()[0] as { value: string; text: string }
    // A real process on this machine, with the secret in its argv; started through a shell that
    // exits, so it is not below this process (top.json leaves out the snapshot's own children).
    const argv = [process.execPath, '-e', 'setTimeout(() => {}, 30000)', '--', ...planted.text.split(' ').slice(1)]
    const quoted = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')
    const pid = Number(execFileSync('sh', ['-c', `${quoted} >/dev/null 2>&1 </dev/null & echo $!`], { encoding: 'utf8' }).trim())
    const child = { kill: () => process.kill(pid) }
    try {
      await new Promise((r) => setTimeout(r, 300))
      const ctx = createTestContext('/', { limits: { topProcesses: 100000 } })
      const { documents } = await new ProcessFacts().collect({ ctx })
      const top = String(documents[0]?.content)
      assert.ok(!top.includes(planted.value), 'the password is in top.json')
      assert.ok(top.includes(`--db-password=${REDACTED} --verbose`), 'the rest of the command line is kept')
    } finally {
      child.kill()
    }
  })

  it('redacts any provider document before it enters the twin, and names place and rule', async () => {
    const doc = { path: 'system/cron/cron.json', content: '{\n  "line": "0 3 * * * mysqldump -u root -pS3cretPw1 db"\n}\n' }
    const { doc: screened, diagnostics } = await screenDocument(doc, 'cron')
    assert.equal(String(screened.content), `{\n  "line": "0 3 * * * mysqldump -u root -p${REDACTED} db"\n}\n`)
    assert.equal(diagnostics[0]?.code, 'SECRET_REDACTED')
    assert.match(diagnostics[0]?.summary ?? '', /system\/cron\/cron\.json:2 \(command-line-flag\)/)
    assert.ok(!JSON.stringify(diagnostics).includes('S3cretPw1'))
    assert.ok(writesRedaction({ action: 'write', text: String(screened.content) }))
  })

  it('leaves the files provider\'s mirrored files to it, but screens files other plugins mirror', async () => {
    const doc = { path: 'filesystem/etc/ssl/openssl.cnf', content: 'secret = pass:insta\n' }
    assert.equal((await screenDocument(doc, 'files')).doc, doc)
    const crontab = { path: 'filesystem/var/spool/cron/crontabs/root', content: '*/5 * * * * /usr/bin/agent --token abcdef123456\n' }
    assert.equal(String((await screenDocument(crontab, 'cron')).doc.content), `*/5 * * * * /usr/bin/agent --token ${REDACTED}\n`)
  })
})

describe('documents screened before (the unchanged snapshot skips them)', () => {
  let dir: string
  const cache = () => join(dir, '.git', 'twinsync', 'cache')
  const doc = { path: 'system/notes.json', content: '{"text": "hello"}\n' }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-screened-'))
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir })
    git('init', '-q')
    mkdirSync(join(dir, 'system'))
    writeFileSync(join(dir, doc.path), doc.content)
    git('add', '.')
    git('commit', '-q', '-m', 'first')
    mkdirSync(join(dir, '.git', 'twinsync'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('trusts a document HEAD holds byte for byte only once a snapshot screened under these rules', async () => {
    const draft = await SnapshotDraft.begin(dir, { edited: false })
    const before = ScreenedDocuments.open(cache(), { edited: false })
    assert.equal(before.alreadyScreened(draft, doc), false, 'no record of the rules: everything is screened')
    await before.remember()
    const after = ScreenedDocuments.open(cache(), { edited: false })
    assert.equal(after.alreadyScreened(draft, doc), true)
    assert.equal(after.alreadyScreened(draft, { ...doc, content: '{"text": "hello!"}\n' }), false, 'other bytes')
    assert.equal(after.alreadyScreened(draft, { ...doc, executable: true }), false, 'another mode')
    assert.equal(after.alreadyScreened(draft, { ...doc, path: 'system/other.json' }), false, 'not in HEAD')
    assert.equal(ScreenedDocuments.open(cache(), { edited: true }).alreadyScreened(draft, doc), false, 'a working twin with hand edits')
    await draft.discard()
  })

  it('screens everything again under other secret rules', async () => {
    const draft = await SnapshotDraft.begin(dir, { edited: false })
    mkdirSync(cache(), { recursive: true })
    writeFileSync(join(cache(), 'screened-with-rules'), `${SECRET_RULES_VERSION + 1}\n`)
    const other = ScreenedDocuments.open(cache(), { edited: false })
    assert.equal(other.alreadyScreened(draft, doc), false)
    await other.remember()
    assert.equal(ScreenedDocuments.open(cache(), { edited: false }).alreadyScreened(draft, doc), true)
    await draft.discard()
  })
})

describe('a snapshot of an unchanged machine', () => {
  it('still redacts a secret the provider writes every time (its bytes are not what HEAD holds), and makes no commit', async () => {
    const rig = await serviceRig([notesProvider('notes')])
    try {
      mkdirSync(join(rig.root, 'etc'))
      writeFileSync(join(rig.root, 'etc/notes'), 'mysqldump -u root -pS3cretPw1 db\n')
      const first = await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
      assert.ok(first.commit)
      for (let i = 0; i < 2; i++) {
        const again = await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
        assert.equal(again.commit, undefined, 'nothing changed')
        assert.equal(again.diagnostics.filter((d) => d.code === 'SECRET_REDACTED').length, 1)
        const twin = execFileSync('git', ['-C', rig.twinDir, 'show', 'HEAD:system/notes.json'], { encoding: 'utf8' })
        assert.ok(!twin.includes('S3cretPw1') && twin.includes(REDACTED))
      }
    } finally {
      await rig.cleanup()
    }
  })
})

describe('a document whose name holds a secret (session 24)', () => {
  it('is left out of the twin whole, said by its folder and rule; its name is in no tree, subject or output', async () => {
    const token = `ghp_${'Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7A'.slice(0, 36)}`
    const notes = notesProvider('notes', {
      twinPaths: ['system/notes.json'],
      claims: ['/etc/notes.d/**'],
      async collect({ ctx }) {
        const text = (await ctx.host.readTextIfExists('/etc/notes')) ?? ''
        return {
          state: { text },
          documents: [
            { path: 'system/notes.json', content: `${JSON.stringify({ text })}\n` },
            { path: `filesystem/etc/notes.d/${token}.conf`, content: 'nothing secret inside\n' },
            { path: 'filesystem/etc/notes.d/plain.conf', content: 'plain\n' },
          ],
          diagnostics: [],
        }
      },
    })
    const rig = await serviceRig([notes])
    try {
      mkdirSync(join(rig.root, 'etc'))
      writeFileSync(join(rig.root, 'etc/notes'), 'hello\n')
      const first = await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
      assert.ok(first.commit)
      assert.deepEqual(
        first.diagnostics.filter((d) => d.code === 'SECRET_IN_NAME').map((d) => [d.path, d.summary]),
        [['filesystem/etc/notes.d', 'notes wrote a document whose name holds a secret (github) in filesystem/etc/notes.d; left out of the twin']],
      )
      const names = execFileSync('git', ['-C', rig.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD'], { encoding: 'utf8' })
      assert.ok(names.includes('filesystem/etc/notes.d/plain.conf'))
      const log = execFileSync('git', ['-C', rig.twinDir, 'log', '-p', '--all', '--format=%s%n%b'], { encoding: 'utf8' })
      assert.ok(!names.includes(token) && !log.includes(token) && !JSON.stringify(first).includes(token))
    } finally {
      await rig.cleanup()
    }
  })
})

/**
 * Session 46: a value redacted whole (an extended attribute's `"user.db": "<redacted>"`) redacts
 * to the marker alone, as every such value does: put back only when exactly one string anywhere
 * did, a machine with two gave none back, and every plan said the change was left out for ever.
 */
describe('withActualSecrets: the machine\'s value put back at the same place', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64')
  const db = `0s${b64('postgres://app:Xk9pQ2mZr7LwQe4@db.example.net/app')}`
  const token = `0s${b64(`ghp_${'R8xkq2LmN4pQ7sT9vW1yZ3bC5dF6gH8jK0mN'}`)}`
  const entry = (path: string, xattrs: Record<string, string>) => ({ path, type: 'file', mode: '0644', xattrs })
  it('puts back each of two values redacted whole, by the entry\'s path and the key', async () => {
    const actual = { entries: [entry('/etc/app/notes.txt', { 'user.token': token }), entry('/srv/app/app.conf', { 'user.db': db })] }
    const desired = { entries: [entry('/srv/app/app.conf', { 'user.db': REDACTED }), entry('/etc/app/notes.txt', { 'user.token': REDACTED })] }
    assert.deepEqual(await withActualSecrets(desired, actual), { entries: [entry('/srv/app/app.conf', { 'user.db': db }), entry('/etc/app/notes.txt', { 'user.token': token })] })
  })
  it('puts back nothing at another place, nor a value the machine no longer redacts to the marker there', async () => {
    const actual = { entries: [entry('/etc/app/notes.txt', { 'user.token': token }), entry('/srv/app/app.conf', { 'user.db': db })] }
    const desired = { entries: [entry('/etc/app/other.txt', { 'user.db': REDACTED }), entry('/etc/app/notes.txt', { 'user.note': REDACTED })] }
    assert.deepEqual(await withActualSecrets(desired, actual), desired)
  })
})

/**
 * Session 46, the processes provider at its port: a fake /proc of a running system (an offline
 * root's copy, read as live: a booted container's tests cannot run in a worktree), whose top
 * processes hold passwords and tokens on their command lines, as the provider and then the
 * snapshot's screen write top.json.
 */
describe('processes: passwords on the top processes\' command lines (session 46)', () => {
  const pw = 'Xk9pQ2mZr7LwQe4v'
  const ghp = `ghp_${'R8xkq2LmN4pQ7sT9vW1yZ3bC5dF6gH8jK0mN'}`
  const lines = [
    ['sshpass', '-p', pw, 'ssh', 'backup@nas'],
    ['redis-cli', '-h', '10.0.0.2', '-a', pw, 'monitor'],
    ['/usr/bin/redis-server', '127.0.0.1:6379', '--requirepass', pw],
    ['mysqldump', '-uroot', `-p${pw}`, '--all-databases'],
    ['mongosh', `mongodb://admin:${pw}@10.0.0.3:27017/admin`],
    ['java', `-Djavax.net.ssl.keyStorePassword=${pw}`, '-jar', '/opt/app/app.jar'],
    ['x11vnc', '-display', ':0', '-passwd', pw, '-forever'],
    ['smbclient', '//nas/share', '-U', `backup%${pw}`],
    ['curl', '-u', `admin:${pw}`, 'https://api.example.net/x'],
    ['node', '/srv/bot/index.js', '--token', ghp],
    ['sh', '-c', `echo 'ops:${pw}' | chpasswd`],
    ['ffmpeg', '-i', `rtsp://admin:${pw}@192.168.1.64:554/Streaming`, '-c', 'copy', 'out.mp4'],
    // A long line: the secret lies across the 200th character the provider cuts at.
    ['/usr/bin/python3', `/srv/${'a'.repeat(150)}/worker.py`, `--db-password=${pw}`],
  ]
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'twinsync-proc-secrets-'))
    mkdirSync(join(root, 'etc'), { recursive: true })
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n')
    writeFileSync(join(root, 'etc/hostname'), 'srv\n')
    mkdirSync(join(root, 'proc'))
    writeFileSync(join(root, 'proc/uptime'), '3600.5 7000.0\n')
    lines.forEach((argv, i) => {
      const pid = 2000 + i
      const fields = Array.from({ length: 50 }, () => '0')
      fields[0] = 'S'
      fields[1] = '1'
      fields[11] = String(50 + i)
      fields[19] = '100'
      mkdirSync(join(root, 'proc', String(pid)))
      writeFileSync(join(root, 'proc', String(pid), 'stat'), `${pid} (${argv[0]?.split('/').pop()}) ${fields.join(' ')}`)
      writeFileSync(join(root, 'proc', String(pid), 'status'), `Uid:\t0\t0\t0\t0\nVmRSS:\t${10_000 + i} kB\n`)
      writeFileSync(join(root, 'proc', String(pid), 'cmdline'), `${argv.join('\0')}\0`)
    })
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it('writes none into top.json as the provider gives it and as the snapshot screens it; the programs stay readable', async () => {
    const host = new RecordingHost(new LocalHost(root), { live: true })
    const { documents } = await new ProcessFacts().collect({ ctx: createTestContext(root, { host, limits: { topProcesses: 100 } }) })
    const doc = documents[0] as { path: string; content: string }
    const screened = String((await screenDocument(doc, 'processes')).doc.content)
    for (const text of [String(doc.content), screened]) {
      assert.ok(!text.includes(pw) && !text.includes(ghp), text)
      assert.equal((JSON.parse(text) as { count: number }).count, lines.length)
    }
    for (const program of ['sshpass', 'redis-cli', 'mysqldump', 'mongosh', 'x11vnc', 'smbclient', 'chpasswd', 'ffmpeg', 'worker.py']) assert.ok(screened.includes(program), program)
  })
})
