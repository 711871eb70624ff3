import { strict as assert } from 'node:assert'
import { MemoryCache, type TwinDocument } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider, type Manifest, type ManifestEntry } from '../src/index.js'
import { PathPatterns } from '@twinsync/sdk'
import { BARE_TOKEN, DEFAULT_SECRET_PATHS, isBareToken, isTokenFile, ROOT_ONLY_UNCHECKED, SecretRules, TOKEN_FILE } from '../src/secrets.js'
import { md5, TargetRoot } from './target-root.js'

const PACKAGED = '[cmp]\nsecret = pass:insta\n'

function rootWith(): TargetRoot {
  return new TargetRoot()
    .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
    .file('/etc/group', 'root:x:0:\nadm:x:4:\n')
    .file('/etc/app/root-only.bin', new Uint8Array([1, 0, 2, 3]), { mode: 0o600 })
    .file('/etc/app/root-only.conf', 'listen = 8080\n', { mode: 0o600 })
    .file('/etc/app/root-group.conf', 'listen = 8081\n', { mode: 0o640, gid: 4 })
    .file('/etc/app/root-only-secret.conf', 'db_password = k8Jq2mZx\n', { mode: 0o600 })
    .file('/etc/app/world.bin', new Uint8Array([1, 0, 2, 3]), { mode: 0o644 })
    .file('/etc/app/world-secret.env', 'API_KEY=Zq81nNc0pL2x\n', { mode: 0o644 })
    .file('/etc/myapp/db.pass', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o640, gid: 4 })
    .file('/etc/openvpn/auth.txt', 'vpnuser\nXq7vR2mK9pL4sT8wZ3nB\n', { mode: 0o600 })
    .file('/etc/myapp/world.token', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o644 })
    .file('/etc/myapp/allowed.id', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o600 })
    .file('/etc/myapp/allowed.key', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n', { mode: 0o644 })
    .file('/etc/myapp/world.id', '0b5a1c4e-1f2e-4a5b-9c8d-3e2f1a0b9c8d\n', { mode: 0o644 })
    .file('/etc/restic/password.txt', 'Tr0ub4dor&3\n', { mode: 0o644 })
    .file('/etc/ssl/openssl.cnf', PACKAGED)
    .file('/etc/ssl/modified.cnf', PACKAGED.replace('insta', 'n3wpass'))
    .file(
      '/var/lib/dpkg/status',
      [
        'Package: openssl',
        'Status: install ok installed',
        'Conffiles:',
        ` /etc/ssl/openssl.cnf ${md5(PACKAGED)}`,
        ` /etc/ssl/modified.cnf ${md5(PACKAGED)}`,
        'Description: ssl',
        '',
      ].join('\n'),
    )
    .file('/var/lib/dpkg/diversions', '')
}

function manifestOf(documents: readonly TwinDocument[]): Manifest {
  return JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
}

describe('files provider: which files are secret', () => {
  let root: TargetRoot
  let documents: TwinDocument[]
  let manifest: Manifest
  let warnings: string[]
  const cache = new MemoryCache()
  const entry = (path: string): ManifestEntry => {
    const e = manifest.entries.find((x) => x.path === path)
    assert.ok(e, `${path} is listed`)
    return e
  }

  before(async () => {
    root = rootWith()
    const ctx = createTestContext(root.dir, { config: { include: ['/etc'], secrets: { allow: ['/etc/myapp/allowed.*'] } }, cache })
    const collected = await new FilesProvider().collect({ ctx })
    documents = collected.documents
    warnings = collected.diagnostics.filter((d) => d.code === 'FILES_TOKEN_FILE').map((d) => d.summary)
    manifest = manifestOf(documents)
  })
  after(() => root.remove())

  it('keeps a root-only file private unless its content is shown free of findings', () => {
    assert.deepEqual([entry('/etc/app/root-only.bin').secret, entry('/etc/app/root-only.bin').secretReason], [true, ROOT_ONLY_UNCHECKED])
    assert.equal(entry('/etc/app/root-only.conf').content, 'mirrored')
    assert.equal(entry('/etc/app/root-group.conf').content, 'mirrored')
    assert.deepEqual([entry('/etc/app/root-only-secret.conf').secret, entry('/etc/app/root-only-secret.conf').secretReason], [true, 'credential-assignment'])
  })

  it('records a file with a finding as metadata and a keyed hash, whoever can read it', () => {
    const e = entry('/etc/app/world-secret.env')
    assert.deepEqual([e.secret, e.content, e.sha256], [true, 'secret', undefined])
    assert.match(e.secretHash ?? '', /^hmac-sha256:[0-9a-f]{64}$/)
    assert.ok(!documents.some((d) => String(d.content).includes('Zq81nNc0pL2x') || String(d.content).includes('k8Jq2mZx')))
    assert.equal(entry('/etc/app/world.bin').content, 'binary')
  })

  it('treats a file exactly as its package ships it as public, and a modified one by its content', () => {
    assert.equal(entry('/etc/ssl/openssl.cnf').content, 'mirrored')
    assert.equal(entry('/etc/ssl/modified.cnf').secret, true)
  })

  it('holds out a file of one or two bare tokens kept from other users, says how to mirror it, and lets the configuration allow one', () => {
    assert.deepEqual([entry('/etc/myapp/db.pass').secret, entry('/etc/myapp/db.pass').secretReason], [true, TOKEN_FILE])
    assert.deepEqual([entry('/etc/openvpn/auth.txt').secret, entry('/etc/openvpn/auth.txt').secretReason], [true, TOKEN_FILE])
    assert.equal(entry('/etc/myapp/allowed.id').content, 'mirrored', 'secrets.allow')
    assert.ok(!documents.some((d) => String(d.content).includes('Xq7vR2mK9pL4sT8wZ3nB') && !['filesystem/etc/myapp/allowed.id', 'filesystem/etc/myapp/allowed.key'].includes(d.path)))
    assert.equal(warnings.length, 4, warnings.join('\n'))
    assert.match(warnings[0] ?? '', /^\/etc\/myapp\/db\.pass is held out of the twin as a secret: a bare token .*add it to files\.secrets\.allow/)
  })

  it('holds out a file that is one token whoever may read it, and a password file\'s one word; says how to mirror it, and lets the configuration allow one (session 17)', () => {
    assert.deepEqual([entry('/etc/myapp/world.token').secret, entry('/etc/myapp/world.token').secretReason], [true, BARE_TOKEN])
    assert.deepEqual([entry('/etc/restic/password.txt').secret, entry('/etc/restic/password.txt').secretReason], [true, BARE_TOKEN])
    assert.ok(!documents.some((d) => String(d.content).includes('Tr0ub4dor&3')))
    assert.equal(entry('/etc/myapp/world.id').content, 'mirrored', 'a UUID is no token')
    assert.equal(entry('/etc/myapp/allowed.key').content, 'mirrored', 'secrets.allow')
    assert.ok(warnings.some((w) => /^\/etc\/myapp\/world\.token is held out of the twin as a secret: the whole file is one token .*files\.secrets\.allow/.test(w)), warnings.join('\n'))
  })

  it('takes as one token only a token-shaped word, or any password-like word in a file named for one; not ids, digests, settings, names, versions, paths or placeholders', () => {
    const b64 = 'q0Xb7K2mZr9LpW4tB8nHcV3yT6uJ1sF5dG0aE2iO4w='
    const yes: Array<[string, string]> = [
      ['/etc/myapp/api.token', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\n'],
      ['/etc/myapp/anything', `${b64}\n`],
      ['/usr/local/etc/app/key', `  ${b64}  \r\n`],
      ['/etc/restic/password.txt', 'Tr0ub4dor&3\n'],
      ['/etc/nginx/ssl/passphrases', 'correct-horse-9\n'],
      ['/etc/app/db.pass', 'hunter22\n'],
      ['/etc/app/api-key', '0123456789abcdef0123456789abcdef\n'],
      ['/etc/app/secrets', 'S3cr3t!x\n'],
    ]
    for (const [path, text] of yes) assert.ok(isBareToken(text, path), `${path}: ${JSON.stringify(text)}`)
    const no: Array<[string, string]> = [
      ['/etc/machine-id', '6b0d1a57ab569dbe23065eee4fe09850\n'],
      ['/etc/myapp/instance-id', '0b5a1c4e-1f2e-4a5b-9c8d-3e2f1a0b9c8d\n'],
      ['/etc/myapp/instance-id', '0B5A1C4E-1F2E-4A5B-9C8D-3E2F1A0B9C8D\n'],
      ['/var/lib/app/sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n'],
      ['/etc/default/locale', 'LANG=en_US.UTF-8\n'],
      ['/etc/timezone', 'America/Argentina/Buenos_Aires\n'],
      ['/etc/hostname', 'web01-prod.example.org\n'],
      ['/etc/debian_version', '13.1\n'],
      ['/etc/myapp/release', 'MyCompanyServerEdition\n'],
      ['/etc/myapp/token', '${API_TOKEN}\n'],
      ['/etc/myapp/token-path', '/run/secrets/api-token\n'],
      ['/etc/myapp/passwords', 'disabled\n'],
      ['/etc/myapp/pass', 'short\n'],
      ['/etc/myapp/api.token', 'Xq7vR2mK9pL4sT8w Z3nB6yH1\n'],
      ['/etc/myapp/api.token', 'Xq7vR2mK9pL4sT8wZ3nB6yH1\nsecond\n'],
      ['/etc/myapp/compass', 'north-north-west\n'],
    ]
    for (const [path, text] of no) assert.ok(!isBareToken(text, path), `${path}: ${JSON.stringify(text)}`)
  })

  it('session 34: takes as one passphrase a line of two to twelve words in a file named for a password or passphrase (restic\'s password file); not in a file named for a token or secret, not prose, not two lines', () => {
    const yes: Array<[string, string]> = [
      ['/etc/restic/password', 'correct horse battery staple\n'],
      ['/root/.config/borg/passphrase.txt', 'Tr0ub4dor & 3 zebra\n'],
      ['/etc/backup/repo.pass', 'lemon orbit candle 42 glacier\n'],
    ]
    for (const [path, text] of yes) assert.ok(isBareToken(text, path), `${path}: ${JSON.stringify(text)}`)
    const no: Array<[string, string]> = [
      ['/etc/myapp/api.token', 'correct horse battery staple\n'],
      ['/etc/myapp/secrets', 'correct horse battery staple\n'],
      ['/etc/restic/password', 'correct horse\nbattery staple\n'],
      ['/etc/restic/password', 'a b\n'],
      ['/etc/restic/password', 'see the wiki page for how to set this up and who to ask about it\n'],
      ['/etc/restic/README.password', '<your password>\n'],
      ['/etc/app/compass', 'north north west wind\n'],
    ]
    for (const [path, text] of no) assert.ok(!isBareToken(text, path), `${path}: ${JSON.stringify(text)}`)
  })

  it('takes as a token file only one or two single words, one of them token-like', () => {
    for (const text of ['Xq7vR2mK9pL4sT8wZ3nB6yH1\n', '# the key\n0123456789abcdef0123456789abcdef\n', 'bob\nS3cr3t-pass!\n', 'K10abc::server:0123abcdef\n'])
      assert.ok(isTokenFile(text), JSON.stringify(text))
    for (const text of ['', 'listen = 8080\n', 'yes\n', '/etc/ssl/private/site.key\n', 'a\nb\nXq7vR2mK9pL4sT8wZ3nB\n', 'localhost\n', 'UTF-8 en_US.UTF-8 ok\n', 'passwordpassword\n'])
      assert.ok(!isTokenFile(text), JSON.stringify(text))
  })

  it('changes the keyed hash with the content and keeps it with the same key', async () => {
    const before = entry('/etc/app/world-secret.env').secretHash
    root.file('/etc/app/world-secret.env', 'API_KEY=Zq81nNc0pL2y\n', { mode: 0o644 })
    const again = manifestOf((await new FilesProvider().collect({ ctx: createTestContext(root.dir, { config: { include: ['/etc'] }, cache }) })).documents)
    const after = again.entries.find((e) => e.path === '/etc/app/world-secret.env')?.secretHash
    assert.notEqual(after, before)
    assert.equal(again.entries.find((e) => e.path === '/etc/app/root-only-secret.conf')?.secretHash, entry('/etc/app/root-only-secret.conf').secretHash)
  })
})

describe('files provider: secret path rules made when first asked (speed, session 42)', () => {
  /** Calls `made` with a count of the regular expressions built by `new RegExp` meanwhile. */
  function countingRegExps<T>(made: () => T): { value: T; built: number } {
    const Real = globalThis.RegExp
    let built = 0
    const Counting: RegExpConstructor = new Proxy(Real, {
      construct(target, args, newTarget): object {
        built++
        return Reflect.construct(target, args, newTarget === Counting ? target : newTarget) as object
      },
    })
    globalThis.RegExp = Counting
    try {
      return { value: made(), built }
    } finally {
      globalThis.RegExp = Real
    }
  }

  const extra = ['/etc/myapp/creds/**', '*.vault', '/srv/[x]?/key']
  const allow = ['/etc/myapp/allowed.*']
  const paths = ['/etc/shadow', '/etc/ssh/ssh_host_rsa_key', '/etc/ssh/ssh_host_rsa_key.pub', '/etc/myapp/creds/a/b', '/home/u/x.vault', '/srv/[x]1/key', '/srv/x1/key', '/etc/motd', '/etc/myapp/allowed.key', '/etc/myapp/allowed']

  it('builds no expression until a path is asked about (an unchanged collect asks none)', () => {
    const { value: rules, built } = countingRegExps(() => new SecretRules(extra, true, allow))
    assert.equal(built, 0)
    assert.ok(countingRegExps(() => rules.pathVerdict('/etc/motd')).built > 0)
    assert.equal(countingRegExps(() => rules.pathVerdict('/etc/shadow')).built, 0, 'made once')
  })

  it('answers as the patterns made at once would', () => {
    const rules = new SecretRules(extra, true, allow)
    const eager = new PathPatterns([...DEFAULT_SECRET_PATHS, ...extra])
    const allowed = new PathPatterns(allow)
    for (const path of paths) {
      assert.equal(rules.pathVerdict(path), eager.matches(path) ? 'path rule' : undefined, path)
      assert.equal(rules.allows(path), allowed.matches(path), path)
    }
    assert.equal(new SecretRules([], true).allows('/etc/myapp/allowed.key'), false)
    assert.deepEqual(rules.extraPaths, extra)
    assert.deepEqual(rules.allowPaths, allow)
  })
})
