import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { chmodSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryCache, type ProviderCache } from '@twinsync/sdk'
import { FilesProvider } from '../src/index.js'
import { KEPT_PARTS } from '../src/documents-token.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

/**
 * The files provider's token of what its documents are made from (documents-token.ts): equal
 * only while nothing they are made from moved; handed back as `since`, the documents are kept
 * (none made). Each test changes one input the documents depend on and checks the token moves.
 */
describe('files provider: the token of its documents, and keeping them', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  let cache: ProviderCache
  const ctx = (config: Record<string, unknown> = {}) => createTestContext(root.dir, { config: { include: ['/etc'], ...config }, cache })
  const collect = (since?: string, config?: Record<string, unknown>) => provider.collect({ ctx: ctx(config), ...(since === undefined ? {} : { since }) })
  /** Files changed a moment ago are not trusted (racily clean): no token until they age. */
  const age = () => new Promise((resolve) => setTimeout(resolve, 150))

  beforeEach(async () => {
    root = debianLikeRoot()
    cache = new MemoryCache()
    await age()
  })
  afterEach(() => root.remove())

  it('an unchanged machine: the same token; handed back, no document is made and the provider\'s parts are kept, the state the same', async () => {
    const first = await collect()
    assert.ok(first.token !== undefined && first.documents.length > 0)
    const same = await collect()
    assert.equal(same.token, first.token)
    assert.equal(same.kept, undefined, 'nothing kept without `since`')
    const kept = await collect(first.token)
    assert.deepEqual([kept.token, kept.documents, kept.kept], [first.token, [], KEPT_PARTS])
    assert.deepEqual(kept.state, first.state)
    assert.deepEqual(kept.diagnostics, first.diagnostics)
    const other = await collect('files-1-another')
    assert.equal(other.kept, undefined)
    assert.deepEqual(other.documents.map((d) => d.path), first.documents.map((d) => d.path))
  })

  it('a file rewritten with the same size and mtime (only its ctime moved): another token, its documents made', async () => {
    const first = await collect()
    const path = join(root.dir, 'etc/hosts')
    const before = statSync(path, { bigint: true })
    writeFileSync(path, readFileSync(path, 'utf8').replace('localhost', 'LOCALHOST'))
    const ns = before.mtimeNs % 1_000_000_000n
    execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(ns).padStart(9, '0')}`, path])
    assert.equal(statSync(path, { bigint: true }).mtimeNs, before.mtimeNs)
    await age()
    const next = await collect(first.token)
    assert.notEqual(next.token, first.token)
    assert.equal(next.kept, undefined)
    assert.match(String(next.documents.find((d) => d.path === 'filesystem/etc/hosts')?.content), /LOCALHOST/)
  })

  it('a mode changed, a file added, a file removed: another token each time', async () => {
    const tokens = [(await collect()).token]
    chmodSync(join(root.dir, 'etc/motd'), 0o600)
    await age()
    tokens.push((await collect(tokens[0])).token)
    writeFileSync(join(root.dir, 'etc/new.conf'), 'x = 1\n')
    await age()
    tokens.push((await collect(tokens[1])).token)
    execFileSync('rm', [join(root.dir, 'etc/new.conf')])
    await age()
    tokens.push((await collect(tokens[2])).token)
    assert.equal(new Set(tokens).size, 4, tokens.join('\n'))
  })

  it('the configuration: an ignored path, or a root left out, is another token (the paths that stay did not move)', async () => {
    const first = await collect()
    const ignoring = await collect(first.token, { ignore: ['/etc/app/**'] })
    assert.notEqual(ignoring.token, first.token)
    assert.equal(ignoring.kept, undefined)
    const twoRoots = await collect(undefined, { include: ['/etc', '/usr/local'] })
    const oneRoot = await collect(twoRoots.token)
    assert.notEqual(oneRoot.token, twoRoots.token)
    assert.equal(oneRoot.kept, undefined)
  })

  it('the accounts: a user renamed in an ignored /etc/passwd names the owner anew, another token', async () => {
    const config = { ignore: ['/etc/passwd', '/etc/group'] }
    const first = await collect(undefined, config)
    const passwd = join(root.dir, 'etc/passwd')
    writeFileSync(passwd, readFileSync(passwd, 'utf8').replace(/^alice:/m, 'alicia:'))
    await age()
    const next = await collect(first.token, config)
    assert.notEqual(next.token, first.token)
    assert.equal(next.kept, undefined)
  })

  it('a new key for the secrets\' keyed hashes (the provider cache lost): another token', async () => {
    const first = await collect()
    assert.ok(first.documents.some((d) => d.path === 'system/files/manifest.json' && String(d.content).includes('"secretHash"')))
    await cache.remove?.('secret-hash-key')
    const next = await collect(first.token)
    assert.notEqual(next.token, first.token)
    assert.equal(next.kept, undefined)
  })

  it('a file changed a moment ago (racily clean): no token at all', async () => {
    writeFileSync(join(root.dir, 'etc/hosts'), '127.0.0.2 localhost\n')
    // Its times a minute ahead: still too recent to trust when the collect starts, however loaded the machine.
    const ahead = new Date(Date.now() + 60_000)
    utimesSync(join(root.dir, 'etc/hosts'), ahead, ahead)
    const racy = await collect()
    assert.equal(racy.token, undefined)
    assert.ok(racy.documents.length > 0)
  })
})
