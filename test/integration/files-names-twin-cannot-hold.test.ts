// Session 32 (helper redteam): a name git refuses in a tree (`.git` in another case, with dots or
// spaces after it, `git~1`) anywhere the files provider reads made every snapshot of the machine
// fail with PATH_INVALID ("A provider produced this path; report it…"): the core refuses such a
// twin path when it builds the tree, and the files provider mirrored it. Any user could do that
// with a folder in their own ~/.config (read by root's snapshot): no scheduled snapshot, no
// checkpoint, so no apply either. Now the files provider leaves such a name out, with everything
// below it, and says so (FILES_NAME_GIT_REFUSES); one rule (the SDK's isDotGitName) for both.
// Also a path too long for the twin (its absolute path past PATH_MAX): the snapshot committed,
// then failed to move the file in (ENAMETOOLONG, uncoded), and every later snapshot and plan
// failed settling that move, the folders long gone. Now left out and said (FILES_PATH_TOO_LONG).
// In-process, real git, a hand-made root with a user's home.
import assert from 'node:assert/strict'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_MIRRORED_PATH_BYTES } from '@twinsync/plugin-files'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { git, smallTwin, SMALL_ETC, type SmallTwin } from '../support/in-process-twin.js'

describe('names and paths the twin cannot hold, on the machine: left out and said, the snapshot commits', function () {
  this.timeout(120_000)
  let rig: SmallTwin
  afterEach(async () => {
    if (rig !== undefined) await rm(rig.dir, { recursive: true, force: true })
  })

  const files = {
    ...SMALL_ETC,
    'etc/passwd': 'root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000:Ann:/home/ann:/bin/bash\n',
    'etc/group': 'root:x:0:\nann:x:1000:\n',
    'home/ann/.config/app.conf': 'colour=blue\n',
  }
  const snapshot = async () => {
    const r = await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    return { commit: r.commit, warnings: r.diagnostics.filter((d) => d.severity !== 'info').map((d) => [d.code, d.path]) }
  }
  const tracked = () => git(rig.twin, ['ls-tree', '-r', '--name-only', 'HEAD']).split('\n').filter(Boolean)

  it("a user's ~/.config/.GIT and the like: the snapshot commits, each named once, nothing below them in the twin; the plan asks nothing of them", async () => {
    rig = await smallTwin('twinsync-dot-git-', { files })
    const names = ['.GIT', '.Git', '.git.', '.git ', 'git~1', 'GIT~1']
    for (const name of names) {
      await mkdir(join(rig.root, 'home/ann/.config', name), { recursive: true })
      await writeFile(join(rig.root, 'home/ann/.config', name, 'config'), '[core]\n\tfsmonitor = touch /tmp/pwned\n')
    }
    await writeFile(join(rig.root, 'etc/.Git'), 'a file, not a folder\n')
    await writeFile(join(rig.root, 'home/ann/.config/app.conf'), 'colour=green\n')
    const r = await snapshot()
    assert.ok(r.commit, `the snapshot commits: ${JSON.stringify(r)}`)
    assert.deepEqual(
      r.warnings.filter(([code]) => code === 'FILES_NAME_GIT_REFUSES').map(([, path]) => path).sort(),
      ['/etc/.Git', ...names.map((n) => `/home/ann/.config/${n}`)].sort(),
    )
    assert.ok(tracked().includes('filesystem/home/ann/.config/app.conf'), "the rest of ann's folder is recorded")
    assert.equal(git(rig.twin, ['show', 'HEAD:filesystem/home/ann/.config/app.conf']), 'colour=green\n')
    assert.deepEqual(tracked().filter((p) => /git/i.test(p)), [])
    const manifest = git(rig.twin, ['show', 'HEAD:system/files/manifest.json'])
    assert.doesNotMatch(manifest, /\.git|git~1/i, 'the manifest lists none of them either')
    // The machine matches the twin: nothing planned for them (no deletion of what the twin left out).
    assert.deepEqual((await (await rig.container()).resolve(PlanWorkflow).plan({})).changes.map((c) => c.id), [])
    // Ignored, they are not said.
    await writeFile(rig.configPath, `files:\n  ignore: ['/home/ann/.config/.GIT', '/home/ann/.config/.Git', '/home/ann/.config/.git.', '/home/ann/.config/.git ', '/home/ann/.config/git~1', '/home/ann/.config/GIT~1', '/etc/.Git']\n${await readFile(rig.configPath, 'utf8')}`)
    assert.deepEqual((await snapshot()).warnings.filter(([code]) => code === 'FILES_NAME_GIT_REFUSES'), [])
  })

  it("a user's folders nested past what the twin can hold: left out and said once; the snapshot commits, the next one and the plan work", async () => {
    rig = await smallTwin('twinsync-dot-git-', { files })
    // Folders of 200 bytes down to a file 4,090 bytes from the root (the machine can hold it: its host path stays under PATH_MAX).
    const base = join(rig.root, 'home/ann/.config/deep')
    await mkdir(base, { recursive: true })
    const cwd = process.cwd()
    const parts: string[] = []
    try {
      process.chdir(base)
      const depth = () => base.length + parts.reduce((n, p) => n + p.length + 1, 0)
      while (depth() < 4090 - 2) {
        parts.push('d'.repeat(Math.min(200, 4090 - 2 - depth() - 1)))
        await mkdir(parts.at(-1) as string)
        process.chdir(parts.at(-1) as string)
      }
      await writeFile('f', 'deep\n')
      assert.equal(depth() + 2, 4090)
    } finally {
      process.chdir(cwd)
    }
    const r = await snapshot()
    assert.ok(r.commit, `the snapshot commits: ${JSON.stringify(r)}`)
    const long = r.warnings.filter(([code]) => code === 'FILES_PATH_TOO_LONG').map(([, path]) => path as string)
    assert.equal(long.length, 1, JSON.stringify(r.warnings))
    const first = `/home/ann/.config/deep/${parts.join('/')}/f`.split('/').map((_, i, all) => all.slice(0, i + 1).join('/')).find((p) => Buffer.byteLength(p) > MAX_MIRRORED_PATH_BYTES)
    assert.equal(long[0], first, 'the first path too long is named; nothing below it')
    const manifest = git(rig.twin, ['show', 'HEAD:system/files/manifest.json'])
    assert.ok(manifest.includes(`"/home/ann/.config/deep/${parts[0]}/${parts[1]}"`), 'the folders the twin can hold are recorded')
    assert.ok(!manifest.includes(`"${first}"`), 'the one too long is not')
    assert.ok((await snapshot()).warnings.some(([code]) => code === 'FILES_PATH_TOO_LONG'), 'said again by the next snapshot, which works')
    assert.deepEqual((await (await rig.container()).resolve(PlanWorkflow).plan({})).changes.map((c) => c.id), [])
  })

  // Session 44: the provider left out paths over 3,584 bytes while the core refuses a document
  // path over 3,072 (document-paths.ts): a file 3,100 bytes deep made the core refuse the files
  // provider's whole collect at every snapshot (PROVIDER_FAILED, its part kept as it was).
  it("a file deeper than a twin's tree may hold, though under PATH_MAX: left out and said; the files provider's part is committed", async () => {
    rig = await smallTwin('twinsync-dot-git-', { files })
    const base = join(rig.root, 'home/ann/.config/deep')
    const parts: string[] = []
    const machinePath = () => `/home/ann/.config/deep/${parts.join('/')}`
    while (Buffer.byteLength(machinePath()) < 3100 - 201) parts.push('d'.repeat(200))
    parts.push('e'.repeat(3100 - 1 - Buffer.byteLength(machinePath())))
    await mkdir(join(base, ...parts), { recursive: true })
    await writeFile(join(base, ...parts, 'f'), 'deep\n')
    const deep = `${machinePath()}/f`
    assert.equal(Buffer.byteLength(deep), 3102)
    await writeFile(join(rig.root, 'home/ann/.config/app.conf'), 'colour=green\n')
    const r = await snapshot()
    assert.ok(r.commit, `the snapshot commits: ${JSON.stringify(r)}`)
    assert.deepEqual(r.warnings.filter(([code]) => code === 'PROVIDER_FAILED'), [], 'the files provider is not refused')
    const long = r.warnings.filter(([code]) => code === 'FILES_PATH_TOO_LONG').map(([, path]) => path as string)
    assert.equal(long.length, 1, JSON.stringify(r.warnings))
    assert.ok(Buffer.byteLength(long[0] as string) > MAX_MIRRORED_PATH_BYTES && Buffer.byteLength(long[0] as string) <= 3102, long[0])
    assert.equal(git(rig.twin, ['show', 'HEAD:filesystem/home/ann/.config/app.conf']), 'colour=green\n', "the files provider's other changes are committed")
    assert.ok(!tracked().some((p) => p.startsWith('filesystem/home/ann/.config/deep/') && Buffer.byteLength(p) > 3072), 'nothing the core would refuse')
    assert.deepEqual((await (await rig.container()).resolve(PlanWorkflow).plan({})).changes.map((c) => c.id), [])
  })

  it('with defaultIgnore off, /etc/.git (etckeeper) is left out and said instead of failing every snapshot', async () => {
    rig = await smallTwin('twinsync-dot-git-', { files, config: 'files:\n  defaultIgnore: false\n' })
    await mkdir(join(rig.root, 'etc/.git/refs'), { recursive: true })
    await writeFile(join(rig.root, 'etc/.git/HEAD'), 'ref: refs/heads/master\n')
    await writeFile(join(rig.root, 'etc/motd'), 'changed\n')
    const r = await snapshot()
    assert.ok(r.commit, `the snapshot commits: ${JSON.stringify(r)}`)
    assert.deepEqual(r.warnings.filter(([code]) => code === 'FILES_NAME_GIT_REFUSES').map(([, path]) => path), ['/etc/.git'])
    assert.equal(git(rig.twin, ['show', 'HEAD:filesystem/etc/motd']), 'changed\n')
  })
})
