import { strict as assert } from 'node:assert'
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, run, type Rootfs } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

interface Step {
  id: string
  status: string
  message?: string
  outputTail?: string
}

const STATIC_PASSWORD = 'T0pS3cr3tPass'
const RELAY_PASSWORD = 'R3layPassw0rd'

/**
 * A checker quotes the configuration it reads, secrets included: postconf warns `unused parameter:
 * smtp_sasl_pasword_maps=static:relayuser:PASSWORD` (a misspelt name), and postfix check refuses a
 * main.cf line with sasl_passwd's syntax by quoting it (`missing '=' after attribute name:
 * "relayhost [smtp.example.com]:587 relayuser:PASSWORD"`). The machine's main.cf holds both; the
 * twin changes master.cf, so the real `postfix check` runs: it stops at the relayhost line, on
 * the live configuration and on the new one alike, so the change goes live unjudged with that
 * line in its message. Neither password may reach the terminal, the apply journal, or any
 * object of the twin's repository (main.cf itself is kept out as a secret file).
 */
describe('a checker\'s output quoting postfix passwords: no password reaches the terminal or a commit (server root, real postfix check)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  const leaks = (text: string) => [STATIC_PASSWORD, RELAY_PASSWORD].filter((p) => text.includes(p))

  before(async () => {
    rootfs = await freshRootfs('server')
    await mkdir(join(rootfs.dir, 'run/sshd'), { recursive: true })
    await appendFile(
      join(rootfs.dir, 'etc/postfix/main.cf'),
      `smtp_sasl_auth_enable = yes\nsmtp_sasl_pasword_maps = static:relayuser:${STATIC_PASSWORD}\nrelayhost [smtp.example.com]:587 relayuser:${RELAY_PASSWORD}\n`,
    )
    cli = await cliSandbox()
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('passes a master.cf change unjudged, as postfix check already refuses the live main.cf: its words quote the relay password, redacted on the terminal and in the journal', async () => {
    const master = await readFile(join(rootfs.dir, 'etc/postfix/master.cf'), 'utf8')
    await writeTwinFile(cli.twinDir, 'filesystem/etc/postfix/master.cf', `${master}# reviewed\n`)
    const shown = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(shown.code, 0, shown.stdout + shown.stderr)
    assert.match(shown.stdout + shown.stderr, /missing '=' after attribute name: "relayhost \[smtp\.example\.com\]:587 relayuser:<redacted>"/)
    assert.deepEqual(leaks(shown.stdout + shown.stderr), [], 'apply on the terminal')
    const journals = (await readdir(join(cli.twinDir, 'system/journal'))).filter((f) => f.startsWith('apply-')).sort()
    const journal = JSON.parse(await readFile(join(cli.twinDir, 'system/journal', journals.at(-1) as string), 'utf8')) as { steps: Step[] }
    const step = journal.steps.find((s) => s.id === 'files:replace:/etc/postfix/master.cf')
    assert.match(step?.message ?? '', /already fails on the live configuration, .*missing '=' after attribute name: "relayhost \[smtp\.example\.com\]:587 relayuser:<redacted>"/)
  })

  it('leaves neither password in any object of the twin\'s repository (main.cf is kept out as a secret file)', async () => {
    const objects = await run(['git', '-C', cli.twinDir, 'cat-file', '--batch-all-objects', '--batch'], { timeoutMs: 120_000 })
    assert.equal(objects.code, 0, objects.stderr)
    assert.deepEqual(leaks(objects.stdout), [], 'an object of the twin')
  })
})
