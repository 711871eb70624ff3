import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initInNode } from '../src/twin/init-in-node.js'

/** A new twin's repository made in Node (init-in-node.ts) is what `git init --initial-branch=main` makes, as git reads it. */
describe('the twin repository made without git init', () => {
  let dir: string
  const saved = { ...process.env }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-init-'))
    process.env.HOME = join(dir, 'home')
    process.env.GIT_CONFIG_NOSYSTEM = '1'
    mkdirSync(process.env.HOME)
  })
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
    rmSync(dir, { recursive: true, force: true })
  })
  const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: process.env }).trim()

  it("is git's: the same config (probed values included), HEAD on the unborn main, a repository git works in", () => {
    const ours = join(dir, 'ours')
    const theirs = join(dir, 'theirs')
    mkdirSync(ours)
    assert.equal(initInNode(ours), true)
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', theirs], { env: process.env })
    assert.equal(readFileSync(join(ours, '.git', 'config'), 'utf8'), readFileSync(join(theirs, '.git', 'config'), 'utf8'))
    assert.equal(readFileSync(join(ours, '.git', 'HEAD'), 'utf8'), readFileSync(join(theirs, '.git', 'HEAD'), 'utf8'))
    assert.equal(git(ours, 'rev-parse', '--git-dir', '--is-bare-repository'), '.git\nfalse')
    assert.equal(git(ours, 'symbolic-ref', 'HEAD'), 'refs/heads/main')
    writeFileSync(join(ours, 'a'), 'a\n')
    git(ours, 'add', 'a')
    git(ours, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'first')
    assert.equal(git(ours, 'log', '--format=%s'), 'first')
    assert.equal(git(ours, 'fsck', '--strict', '--no-progress'), '')
    assert.equal(existsSync(join(ours, '.git', 'hooks')), false, 'no sample hooks')
  })

  it('leaves it to git (writes nothing) when the environment or a config file shapes the repository, or .git is there', () => {
    const cases: Array<[string, () => void]> = [
      ['GIT_TEMPLATE_DIR', () => (process.env.GIT_TEMPLATE_DIR = join(dir, 'templates'))],
      ['GIT_DIR', () => (process.env.GIT_DIR = join(dir, 'elsewhere'))],
      ['GIT_DEFAULT_HASH', () => (process.env.GIT_DEFAULT_HASH = 'sha256')],
      ['a -c setting', () => (process.env.GIT_CONFIG_COUNT = '1')],
      ['init.templateDir in ~/.gitconfig', () => writeFileSync(join(dir, 'home', '.gitconfig'), '[init]\n\ttemplateDir = /somewhere\n')],
      ['an include in the XDG config', () => {
        mkdirSync(join(dir, 'home', '.config', 'git'), { recursive: true })
        writeFileSync(join(dir, 'home', '.config', 'git', 'config'), '[include]\n\tpath = more\n')
      }],
      ['core.sharedRepository in the global config named by GIT_CONFIG_GLOBAL', () => {
        writeFileSync(join(dir, 'global'), '[core]\n\tsharedRepository = group\n')
        process.env.GIT_CONFIG_GLOBAL = join(dir, 'global')
      }],
    ]
    for (const [what, arrange] of cases) {
      const repo = mkdtempSync(join(dir, 'repo-'))
      const env = { ...process.env }
      arrange()
      assert.equal(initInNode(repo), false, what)
      assert.equal(existsSync(join(repo, '.git')), false, what)
      for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name]
      rmSync(join(dir, 'home'), { recursive: true, force: true })
      mkdirSync(join(dir, 'home'))
    }
    const there = join(dir, 'there')
    mkdirSync(join(there, '.git'), { recursive: true })
    assert.equal(initInNode(there), false, '.git is there')
    assert.deepEqual(execFileSync('ls', ['-A', join(there, '.git')], { encoding: 'utf8' }), '')
  })
})
