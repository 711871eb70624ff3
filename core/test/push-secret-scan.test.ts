import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { scanPushForSecrets } from '../src/remote/secret-scan.js'

/** OpenSSL's example CMP section as Debian's openssl package ships it in /etc/ssl/openssl.cnf. */
const SHIPPED = '[insta]\nserver = pki.certificate.fi:8700\n# Client authentication\nsecret = pass:insta\nref = 3078\n'

describe('push scan: a package\'s unmodified file is public, any other version is scanned', () => {
  let dir: string
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } })
  const commit = (files: Record<string, string>) => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    git('add', '-A')
    git('commit', '-q', '-m', 'snapshot')
  }
  const manifest = (origin: string, text: string) =>
    JSON.stringify({ version: 1, entries: [{ content: 'mirrored', origin, path: '/etc/ssl/openssl.cnf', sha256: createHash('sha256').update(text).digest('hex'), type: 'file' }], leftovers: [] })
  const scan = async () => (await scanPushForSecrets(dir, { refs: ['refs/heads/main'], known: [] }, undefined)).map((f) => `${f.path}:${f.line} ${f.rule}`)

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'push-scan-'))
    git('init', '-q', '--initial-branch=main')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('lets the file through when the manifest records it as the package ships it, with these bytes', async () => {
    commit({ 'filesystem/etc/ssl/openssl.cnf': SHIPPED, 'system/files/manifest.json': manifest('package-unmodified', SHIPPED) })
    assert.deepEqual(await scan(), [])
  })

  it('refuses the same finding in a modified package file, a local file, or bytes the manifest does not vouch for', async () => {
    commit({ 'filesystem/etc/ssl/openssl.cnf': SHIPPED, 'system/files/manifest.json': manifest('package-modified', SHIPPED) })
    assert.deepEqual(await scan(), ['filesystem/etc/ssl/openssl.cnf:4 credential-assignment'])
    const edited = SHIPPED.replace('pass:insta', 'pass:hunter2-real')
    commit({ 'filesystem/etc/ssl/openssl.cnf': edited, 'system/files/manifest.json': manifest('package-unmodified', SHIPPED) })
    assert.ok((await scan()).includes('filesystem/etc/ssl/openssl.cnf:4 credential-assignment'))
  })
})

// Session 40: a push scans every local tag, and the tags were git's arguments (`rev-list --objects`,
// `log`): 12,000 labels of 200 characters passed the kernel's 2 MiB and every push failed with
// E2BIG. They go on git's standard input now.
describe('push scan: more tags than one command line holds', () => {
  let dir: string
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim()
  const commit = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
    git('add', '-A')
    git('commit', '-q', '-m', 'snapshot')
    return git('rev-parse', 'HEAD')
  }
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'push-scan-'))
    git('init', '-q', '--initial-branch=main')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('scans a push of 12,000 tags of 200 characters each (2.4 MB of names), the known commits left out', async function () {
    this.timeout(60_000)
    // Known to the mirror: not scanned. Pushed: main, and a side commit only the last tag reaches.
    const known = commit('filesystem/etc/old.env', 'PASSWORD=correct-horse-battery-staple\n')
    const main = commit('filesystem/etc/a.conf', 'a = 1\n')
    git('checkout', '-q', '--detach')
    const side = commit('filesystem/etc/app.env', 'PASSWORD=hunter2-but-longer-value\n')
    git('checkout', '-q', 'main')
    const tags = Array.from({ length: 12_000 }, (_, i) => `refs/tags/${String(i).padStart(5, '0')}-${'x'.repeat(184)}`)
    // Written as git packs them: making 12,000 loose refs one by one takes longer than the scan.
    writeFileSync(join(dir, '.git/packed-refs'), `# pack-refs with: peeled fully-peeled sorted \n${tags.map((t, i) => `${i === tags.length - 1 ? side : main} ${t}\n`).join('')}`)
    assert.ok(tags.join(' ').length > 2 * 1024 * 1024)
    const found = await scanPushForSecrets(dir, { refs: ['refs/heads/main', ...tags], known: [known] }, undefined)
    assert.deepEqual(found.map((f) => `${f.path}:${f.line} ${f.rule}`), ['filesystem/etc/app.env:1 credential-assignment'])
  })
})
