import { strict as assert } from 'node:assert'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitEnv, isTwinSyncError } from '@twinsync/sdk'
import { SnapshotLog } from '../src/history/snapshot-log.js'
import { checkIdField, LOG_PASS_ENV } from '../src/twin/git.js'
import { tagsAbsent } from '../src/twin/quick-status.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { encoding: 'utf8' }).trim()

/**
 * What `history` reads without git or with less work (session 19): whether the twin has any
 * label at all, from .git as git's files backend keeps tags, and the id fields of its one
 * `git log` pass checked by one expression each.
 */
describe('history reads the twin cheaply, as git would answer', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-history-reads-'))
    git(dir, 'init', '-q', '-b', 'main')
    await writeFile(join(dir, 'a'), 'a\n')
    git(dir, 'add', '-A')
    git(dir, 'commit', '-q', '-m', 'one')
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'two')
  })
  after(() => rm(dir, { recursive: true, force: true }))

  /** tagsAbsent never says "none" where git lists a tag; the labels are git's either way. */
  async function agrees(expectNone: boolean, what: string): Promise<void> {
    const listed = git(dir, 'for-each-ref', 'refs/tags')
    assert.equal(listed === '', expectNone, `${what}: git lists ${listed === '' ? 'no tag' : 'tags'}`)
    if (!tagsAbsent(dir)) assert.equal(expectNone, false, `${what}: no tag, but only git was asked`)
    else assert.equal(listed, '', `${what}: tagsAbsent said no tag where git lists ${listed}`)
    const labels = await new SnapshotLog(dir).labels()
    const named = [...labels.values()].flat().sort()
    assert.deepEqual(named, listed === '' ? [] : git(dir, 'for-each-ref', '--format=%(refname:strip=2)', 'refs/tags').split('\n').sort(), what)
  }

  it('knows a twin has no label from .git: no tags folder, an empty one; any loose, packed or annotated tag is git\'s to list', async () => {
    await rm(join(dir, '.git', 'refs', 'tags'), { recursive: true, force: true })
    await agrees(true, 'no refs/tags folder')
    assert.equal(tagsAbsent(dir), true)
    git(dir, 'tag', 'loose', 'HEAD~1')
    await agrees(false, 'a loose tag')
    assert.equal(tagsAbsent(dir), false)
    git(dir, 'tag', '-a', '-m', 'note', 'annotated', 'HEAD')
    await agrees(false, 'an annotated tag')
    git(dir, 'pack-refs', '--all')
    assert.equal(git(dir, 'for-each-ref', '--format=%(refname)', 'refs/tags'), 'refs/tags/annotated\nrefs/tags/loose')
    await agrees(false, 'tags only in packed-refs')
    assert.equal(tagsAbsent(dir), false, 'packed tags are seen')
    assert.deepEqual((await new SnapshotLog(dir).labels()).get(git(dir, 'rev-parse', 'HEAD')), ['annotated'], 'an annotated tag names its commit')
    git(dir, 'tag', '-d', 'loose', 'annotated')
    await agrees(true, 'every tag deleted (packed-refs without tags, an empty folder)')
    assert.equal(tagsAbsent(dir), true)
    await writeFile(join(dir, '.git', 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted \n${git(dir, 'rev-parse', 'HEAD')} refs/tags/by-hand\n`)
    await agrees(false, 'a tag written into packed-refs')
    await rm(join(dir, '.git', 'packed-refs'))
  })

  it('leaves an unusual .git to git: a tags folder that is a file, a GIT_DIR in the environment', async () => {
    await rm(join(dir, '.git', 'refs', 'tags'), { recursive: true, force: true })
    await writeFile(join(dir, '.git', 'refs', 'tags'), '')
    assert.equal(tagsAbsent(dir), false)
    await rm(join(dir, '.git', 'refs', 'tags'))
    assert.equal(tagsAbsent(dir), true)
    process.env.GIT_DIR = join(dir, '.git')
    try {
      assert.equal(tagsAbsent(dir), false)
    } finally {
      delete process.env.GIT_DIR
    }
  })

  it("checks a log pass's parent ids by one expression exactly as by splitting on spaces", () => {
    const id40 = 'a'.repeat(40)
    const id64 = 'b'.repeat(64)
    const pieces = [id40, id64, ' ', '  ', '', 'x', id40.slice(1), `${id40}0`, `\n${id40}`, id40.toUpperCase(), '\t']
    const oneId = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/
    let seed = 7
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 5000; i++) {
      let value = ''
      for (let k = next(5); k > 0; k--) value += pieces[next(pieces.length)] as string
      const valid = value.split(' ').filter(Boolean).every((id) => oneId.test(id))
      let passed = true
      try {
        checkIdField(dir, '%P', value)
      } catch (error) {
        assert.ok(isTwinSyncError(error) && error.code === 'REPO_INVALID')
        passed = false
      }
      assert.equal(passed, valid, JSON.stringify(value))
      for (const placeholder of ['%H', '%T']) {
        let ok = true
        try {
          checkIdField(dir, placeholder, value)
        } catch {
          ok = false
        }
        assert.equal(ok, oneId.test(value), `${placeholder} ${JSON.stringify(value)}`)
      }
    }
  })
})

/**
 * A log pass over many commits (session 26): git writes it in whole buffers instead of once a
 * commit (LOG_PASS_ENV), and what SnapshotLog reads from the one pass is, commit by commit,
 * what git says of each alone: subjects and bodies with characters of two and three bytes,
 * which whole buffers cut anywhere, the trees and the files each commit changed.
 */
describe('a log pass of many commits comes in whole buffers and reads as each commit alone', function () {
  this.timeout(120_000)
  const COMMITS = 1000
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-log-pass-'))
    git(dir, 'init', '-q', '-b', 'main')
    const stream: string[] = []
    for (let n = 0; n < COMMITS; n++) {
      const subject = `files: ${'é'.repeat(n % 7)}motd-${n} changed ✓`
      const body = n % 3 === 0 ? '' : `\n\nTwinSync snapshot 2026-01-01T00:00:00Z\n\n${'ü€'.repeat(40 + (n % 11))}line ${n}\n`
      const message = `${subject}${body}\n`
      const content = `${n}\n`
      stream.push('commit refs/heads/main', `committer T <t@x> ${1767225600 + n * 3600} +0000`, `data ${Buffer.byteLength(message)}`, message)
      stream.push(`M 100644 inline f${n % 5}`, `data ${Buffer.byteLength(content)}`, content, '')
    }
    execFileSync('git', ['-C', dir, 'fast-import', '--quiet'], { input: stream.join('\n') + '\n' })
    git(dir, 'reset', '-q', '--hard', 'main')
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('git sends the pass in whole buffers, not one write a commit (GIT_FLUSH=0)', async () => {
    // As plainGit runs it: the twin's git environment with the log pass's own on top.
    const { chunks, bytes } = await new Promise<{ chunks: number; bytes: number }>((done, fail) => {
      const child = spawn('git', ['-C', dir, 'log', '-z', '--format=%H%x00%P%x00%T%x00%cI%x00%s%x00%b%x00', 'main'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...gitEnv(), ...LOG_PASS_ENV } })
      let chunks = 0
      let bytes = 0
      child.stdout.on('data', (c: Buffer) => {
        chunks++
        bytes += c.length
      })
      child.on('error', fail)
      child.on('close', () => done({ chunks, bytes }))
    })
    assert.ok(bytes > 100_000, `the pass printed ${bytes} bytes`)
    // git's stdio buffer is at least 4 KiB: a read gets at most two pieces of each write. One write a commit would be about 1,000.
    assert.ok(chunks <= 2 * Math.ceil(bytes / 4096) + 2, `${chunks} reads for ${bytes} bytes of ${COMMITS} commits: git flushed its output commit by commit`)
  })

  it('reads each commit of the one pass as git shows that commit alone', async () => {
    const log = new SnapshotLog(dir)
    const listed = await log.listWithBodies(COMMITS)
    assert.equal(listed.length, COMMITS)
    const changes = await log.listWithChanges(COMMITS)
    assert.equal(changes.length, COMMITS)
    // Every commit's subject and body, from git's whole output read at once (execFileSync decodes it whole).
    const whole = execFileSync('git', ['-C', dir, 'log', '-z', '--format=%H%x01%s%x01%b', 'main'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).replace(/\0$/, '').split('\0')
    assert.equal(whole.length, COMMITS)
    whole.forEach((entry, i) => {
      const [commit, subject, body] = entry.split('\x01')
      assert.equal(listed[i]?.record.commit, commit)
      assert.equal(listed[i]?.record.message, subject, `the subject of main~${i}`)
      assert.equal(listed[i]?.body, body, `the body of main~${i}`)
      assert.equal(changes[i]?.record.message, subject, `the subject of main~${i} in the pass with changes`)
    })
    for (let i = 0; i < COMMITS; i += 37) {
      const { record, body, tree, parentTree } = listed[i] as (typeof listed)[number]
      const [commit, parents, ownTree, date, subject] = git(dir, 'log', '-1', '--format=%H%n%P%n%T%n%cI%n%s', `main~${i}`).split('\n')
      assert.equal(record.commit, commit)
      assert.equal(record.parent, parents === '' ? null : parents)
      assert.equal(tree, ownTree)
      assert.equal(record.date, date)
      assert.equal(record.message, subject, `the subject of main~${i}`)
      assert.equal(body, execFileSync('git', ['-C', dir, 'log', '-1', '--format=%b', `main~${i}`], { encoding: 'utf8' }).replace(/\n$/, ''), `the body of main~${i}`)
      assert.equal(record.kind, i % 3 === (COMMITS - 1) % 3 ? 'other' : 'snapshot')
      assert.equal(parentTree, i === COMMITS - 1 ? '4b825dc642cb6eb9a060e54bf8d69288fbee4904' : git(dir, 'rev-parse', `main~${i + 1}^{tree}`))
      const changed = changes[i] as (typeof changes)[number]
      assert.equal(changed.record.commit, commit)
      assert.equal(changed.record.message, subject)
      assert.deepEqual(changed.changed, await log.changedPaths(i === COMMITS - 1 ? null : git(dir, 'rev-parse', `main~${i + 1}`), commit as string))
    }
  })
})
