// Session 48: a twin made before session 46 (which screens the hostname when `init` writes
// twin.json) holds a token-shaped hostname in twin.json's history. The push scan refuses every
// push, and its next step said `forget PATH`, which refuses twin.json (the twin's own record):
// the way out, `forget --rule`, was two refusals away. The refusal now names that command.
import { strict as assert } from 'node:assert'
import { join } from 'node:path'
import { runOk } from '../bed/index.js'
import { smallCliRoot, type CliSandbox } from '../support/cli.js'

const TOKEN = 'xoxb-1234567890-1234567890123-s48HostNameTokenAbCdEfGh'

describe('a secret hostname in an old twin.json: the push refusal names the step that lets the push through', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  let mirror: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const git = (dir: string, ...args: string[]) => runOk(['git', '-C', dir, ...args], { env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' } })

  before(async () => {
    ;({ cli, root } = await smallCliRoot({ files: { 'etc/hostname': `${TOKEN}\n` } }))
    assert.equal(JSON.parse((await git(cli.twinDir, 'show', 'HEAD:twin.json')).stdout).hostname, '<redacted>')
    // What `init` before session 46 wrote: the hostname itself, in every commit.
    await git(cli.twinDir, 'filter-branch', '-f', '--tree-filter', `sed -i 's/"<redacted>"/"${TOKEN}"/' twin.json`, '--', '--all')
    for (const ref of (await git(cli.twinDir, 'for-each-ref', '--format=%(refname)', 'refs/original')).stdout.split('\n').filter(Boolean)) await git(cli.twinDir, 'update-ref', '-d', ref)
    assert.equal(JSON.parse((await git(cli.twinDir, 'show', 'HEAD:twin.json')).stdout).hostname, TOKEN)
    mirror = join(cli.dir, 'mirror.git')
    await runOk(['git', 'init', '--bare', '-b', 'main', mirror])
    const set = await twinsync('remote', 'set', mirror)
    assert.equal(set.code, 0, set.stdout + set.stderr)
  })
  after(() => cli?.cleanup())

  it('refuses the push naming `forget --rule` with the finding\'s rule; that command, run as given, lets the next push through without the token', async () => {
    const refused = await twinsync('push')
    const said = refused.stdout + refused.stderr
    assert.match(said, /SECRET_IN_PUSH\] Not pushed: secrets in twin\.json:3 \(slack\)/)
    const step = /`(twinsync forget [^`]*)`/.exec(said)?.[1]
    assert.ok(step !== undefined, said)
    assert.match(step, /^twinsync forget --rule slack /)
    const forgot = await cli.twinsync(step.split(' ').slice(1))
    assert.equal(forgot.code, 0, `${step}\n${forgot.stdout}${forgot.stderr}`)
    assert.equal(JSON.parse((await git(cli.twinDir, 'show', 'HEAD:twin.json')).stdout).hostname, '<redacted>')
    const pushed = await twinsync('push')
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr)
    assert.doesNotMatch(pushed.stdout + pushed.stderr, /SECRET_IN_PUSH/)
    assert.equal(JSON.parse((await git(mirror, 'show', 'main:twin.json')).stdout).hostname, '<redacted>')
    assert.ok(!(await git(mirror, 'log', '-p', '--all')).stdout.includes(TOKEN), 'the token is nowhere in the mirror')
    assert.ok(!said.includes(TOKEN) && !(forgot.stdout + forgot.stderr + pushed.stdout + pushed.stderr).includes(TOKEN), 'nor in what was printed')
  })
})
