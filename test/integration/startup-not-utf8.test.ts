// An autostart entry that is not UTF-8 text. On the machine (a Latin-1 Name=Caf\xe9): before
// session 40 collect decoded it lossily into the twin (U+FFFD), and an apply of any edit of that
// entry wrote U+FFFD back over the machine's byte, a change the plan did not show (what was
// approved was not what ran). Now it is not mirrored (AUTOSTART_NOT_MIRRORED, "not UTF-8 text").
// In the twin (a person's or a pull's bytes): before, planned as the lossy text and written; now
// refused with TWIN_INVALID (plan and apply stop, nothing written), kept pending by a snapshot,
// and `discard startup` puts the last snapshot's text back. Real binary.
import { strict as assert } from 'node:assert'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cliSandbox, commitTwin, json, type CliSandbox } from '../support/cli.js'

const CAFE = Buffer.from('[Desktop Entry]\nType=Application\nName=Caf\xe9\nExec=/usr/bin/cafe\n', 'latin1')
const FOO = '[Desktop Entry]\nType=Application\nName=Foo\nExec=/usr/bin/foo\n'
const NOT_TEXT = Buffer.from('[Desktop Entry]\nType=Application\nName=F\xffoo\nExec=/usr/bin/foo\n', 'latin1')
const FOO_DOC = 'filesystem/etc/xdg/autostart/foo.desktop'

describe('an autostart entry that is not UTF-8 text: never mirrored lossily from the machine, never applied from the twin, kept pending', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const machine = (name: string) => readFile(join(root, 'etc/xdg/autostart', name))

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(join(root, 'etc/xdg/autostart'), { recursive: true })
    await writeFile(join(root, 'etc/hostname'), 'target\n')
    await writeFile(join(root, 'etc/xdg/autostart/cafe.desktop'), CAFE)
    await writeFile(join(root, 'etc/xdg/autostart/foo.desktop'), FOO)
    await writeFile(cli.configFile, 'providers:\n  disabled: [apt, systemd, cron, processes, logs, hardware, network]\n')
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stdout + first.stderr)
  })
  after(() => cli.cleanup())

  it("the machine's entry that is not UTF-8 is not mirrored, said so; an apply leaves its bytes alone", async () => {
    await assert.rejects(readFile(join(cli.twinDir, 'filesystem/etc/xdg/autostart/cafe.desktop')), /ENOENT/, 'not in the twin')
    const recorded = JSON.parse(await readFile(join(cli.twinDir, 'system/startup/autostart.json'), 'utf8')) as { ignored: Array<{ path: string; reason: string }> }
    assert.deepEqual(recorded.ignored, [{ path: '/etc/xdg/autostart/cafe.desktop', reason: 'it is not UTF-8 text (decoded, an apply would write other bytes back)' }])
    const plan = await twinsync('plan')
    assert.match(plan.stdout + plan.stderr, /cafe\.desktop is not mirrored: it is not UTF-8 text/)
    assert.equal((await twinsync('apply', '--yes', '--accept-high-risk')).code, 0)
    assert.deepEqual(await machine('cafe.desktop'), CAFE)
  })

  it("a document of the twin that is not UTF-8: refused (TWIN_INVALID), nothing written, kept by a snapshot, discard puts the text back", async () => {
    await writeFile(join(cli.twinDir, FOO_DOC), NOT_TEXT)
    await commitTwin(cli.twinDir, 'bytes that are not UTF-8')
    const status = await twinsync('status', '--json')
    const unread = json<{ unread: Array<{ code: string; path?: string }> }>(status).unread
    assert.deepEqual(unread.map((u) => [u.code, u.path]), [['TWIN_INVALID', FOO_DOC]], status.stdout)
    const plan = await twinsync('plan')
    assert.notEqual(plan.code, 0)
    assert.match(plan.stdout + plan.stderr, /foo\.desktop is not UTF-8 text; nothing of autostart is planned from the twin until it is \[TWIN_INVALID\]/)
    assert.notEqual((await twinsync('apply', '--yes', '--accept-high-risk')).code, 0)
    assert.equal((await machine('foo.desktop')).toString('utf8'), FOO, 'nothing written')

    await writeFile(join(root, 'etc/hostname'), 'moved\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await readFile(join(cli.twinDir, FOO_DOC)), NOT_TEXT, 'kept in the working twin')
    assert.equal((await twinsync('discard', 'startup')).code, 0)
    assert.equal(await readFile(join(cli.twinDir, FOO_DOC), 'utf8'), FOO)
    assert.equal((await twinsync('status', '--exit-code')).code, 0)
  })
})
