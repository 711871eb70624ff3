import { strict as assert } from 'node:assert'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULT_INCLUDE } from '@twinsync/plugin-files'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

/** `twinsync config` shows what is used, defaults filled in; a wrong key in any section is refused. */
describe('twinsync config', function () {
  this.timeout(60_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(root)
  })
  after(() => cli.cleanup())

  it('prints the defaults it fills in, not an empty section', async () => {
    await writeFile(cli.configFile, '{}\n')
    const r = await twinsync('config', '--json')
    assert.equal(r.code, 0, r.stderr)
    const out = json<{ files: Record<string, unknown>; limits: Record<string, number> }>(r)
    assert.deepEqual(out.files, { include: [...DEFAULT_INCLUDE], ignore: [], defaultIgnore: true, users: 'default', secrets: { paths: [], detectContent: true, allow: [] } })
    assert.equal(typeof out.limits.maxFileSize, 'number')
    const text = await twinsync('config')
    assert.match(text.stdout, /^files:\n {2}include:\n {4}- \/etc\n/m)
  })

  it('keeps what the file says over the defaults', async () => {
    await writeFile(cli.configFile, 'files:\n  include: [/srv]\n')
    const out = json<{ files: { include: string[]; users: string } }>(await twinsync('config', '--json'))
    assert.deepEqual(out.files.include, ['/srv'])
    assert.equal(out.files.users, 'default')
  })

  for (const [section, yaml] of [
    ['apt', 'apt:\n  colour: blue\n'],
    ['systemd', 'systemd:\n  colour: blue\n'],
    ['cron', 'cron:\n  colour: blue\n'],
    ['autostart', 'autostart:\n  colour: blue\n'],
    ['os', 'os:\n  colour: blue\n'],
    ['files', 'files:\n  colour: blue\n'],
    ['files', 'files:\n  secrets:\n    colour: blue\n'],
    ['limits', 'limits:\n  colour: blue\n'],
    ['providers', 'providers:\n  colour: blue\n'],
  ] as const) {
    it(`refuses an unknown key in the ${section} section, naming the file and the key: ${JSON.stringify(yaml)}`, async () => {
      await writeFile(cli.configFile, yaml)
      const key = yaml.includes('secrets') ? 'files.secrets.colour' : `${section}.colour`
      const r = await twinsync('config')
      assert.equal(r.code, 2, r.stdout + r.stderr)
      assert.match(r.stderr, new RegExp(`error \\[CONFIG_INVALID\\] ${cli.configFile.replace(/[.]/g, '\\.')}: "${key.replace(/[.]/g, '\\.')}": unknown key`))
      assert.match(r.stderr, /Next step: Correct/)
    })
  }

  // Session 17: files.include took /proc, /sys, /dev (and "/", which holds them): a snapshot would
  // walk kernel interfaces (process environments, devices) into the twin.
  for (const path of ['/proc/sys/kernel', '/sys', '/dev/', '//proc', '/']) {
    it(`refuses ${path} in files.include with CONFIG_INVALID, saying why, and writes nothing`, async () => {
      await writeFile(cli.configFile, `files:\n  include: [/etc, "${path}"]\n`)
      const r = await twinsync('snapshot', '--init')
      assert.equal(r.code, 2, r.stdout + r.stderr)
      assert.match(r.stderr, /error \[CONFIG_INVALID\] .*"files\.include\.1": .*not \/, \/proc, \/sys or \/dev/)
      assert.match(r.stderr, /Next step: Correct "files\.include\.1"/)
      await assert.rejects(stat(cli.twinDir), { code: 'ENOENT' })
    })
  }

  it('accepts an empty section of a provider that takes no settings', async () => {
    await writeFile(cli.configFile, 'apt: {}\ncron:\n')
    const r = await twinsync('config')
    assert.equal(r.code, 0, r.stderr)
  })
})
