// Session 41 (attack): `twinsync apply` shows the plan and waits for a person's "y", holding the
// twin lock, which keeps other runs out but not the person's editor or git. A twin file edited
// while the plan was on screen was committed as the edit before the apply, the reviewed content
// was written, and the change counted as done: the later edit was gone from the working twin,
// status said "In sync". Now an apply that asked plans again after the answer, as a saved plan
// and the control panel's do: PLAN_STALE (exit 2), nothing written, the edit pending. The real
// binary under a pseudo-terminal (script(1)), a hand-made root.
import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { smallCliRoot, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'
import { git } from '../support/in-process-twin.js'

describe('an apply that asked: the twin edited while the plan was on screen', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string
  before(async () => {
    ;({ cli, root } = await smallCliRoot())
  })
  after(() => cli?.cleanup())

  /** `apply` under a pseudo-terminal: `meanwhile` runs once the question is on screen, then the answer "y". */
  const applyAnswering = (meanwhile: () => Promise<void>) =>
    new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
      const command = ['node', TWINSYNC_BIN, 'apply', '--root', root, '--repo', cli.twinDir].map((s) => `'${s}'`).join(' ')
      const child = spawn('script', ['-qfec', command, '/dev/null'], { env: cli.env(), stdio: ['pipe', 'pipe', 'pipe'] })
      let screen = ''
      let answered = false
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
      child.stdout.on('data', (chunk: Buffer) => {
        screen += chunk.toString()
        if (answered || !screen.includes('Apply these changes? [y/N]')) return
        answered = true
        meanwhile().then(() => child.stdin.write('y\n'), reject)
      })
      child.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString()))
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        child.stdin.destroy()
        resolve({ code, screen: screen.replace(/\r\n/g, '\n') })
      })
    })

  it('refused PLAN_STALE (exit 2): nothing written, no commit, the edit pending; answered again, the edit is what is applied', async () => {
    const motd = join(cli.twinDir, 'filesystem/etc/motd')
    await writeFile(motd, 'reviewed\n')
    const head = git(cli.twinDir, ['rev-parse', 'HEAD'])
    const first = await applyAnswering(() => writeFile(motd, 'edited while reading\n'))
    assert.equal(first.code, 2, first.screen)
    assert.match(first.screen, /\+reviewed/, 'the plan on screen was the reviewed content')
    assert.match(first.screen, /\[PLAN_STALE\] The plan no longer matches the machine and the twin .*files:replace:\/etc\/motd\n\s+Next step: Make a new plan/, first.screen)
    assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'Welcome\n', 'nothing written')
    assert.equal(git(cli.twinDir, ['rev-parse', 'HEAD']), head, 'no commit')
    assert.equal(await readFile(motd, 'utf8'), 'edited while reading\n', 'the edit is in the working twin')
    const status = await cli.twinsync(['status', '--root', root, '--repo', cli.twinDir])
    assert.match(status.stdout, /files:replace:\/etc\/motd +the twin asks to replace \/etc\/motd/, status.stdout)

    // Nothing edited while it asks: it plans again, finds the same, applies (not a blanket refusal).
    const second = await applyAnswering(async () => {})
    assert.equal(second.code, 0, second.screen)
    assert.match(second.screen, /\+edited while reading/, second.screen)
    assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'edited while reading\n')
    const after = await cli.twinsync(['status', '--root', root, '--repo', cli.twinDir])
    assert.match(after.stdout, /^In sync: .*nothing pending\./m, after.stdout)
  })
})
