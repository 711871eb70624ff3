import { strict as assert } from 'node:assert'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, run, type Rootfs } from '../bed/index.js'
import { cliSandbox, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

/**
 * A coded error's next step is a command that can be pasted as it is (issue 23 item 7): the
 * saved-plan errors and apply's usage and approval errors name the real plan file, root, twin
 * and configuration file (the sandbox's, given as TWINSYNC_CONFIG), and pasting them into a shell
 * does what they say.
 */
describe('next steps of plan and apply errors can be pasted as they are', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  let planFile: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  /** The commands in a next step, in order. */
  const commandsIn = (stderr: string) => [...(/Next step: (.*)/.exec(stderr)?.[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)
  /** Paste a command into sh, with `twinsync` being the real binary. */
  const paste = (command: string) =>
    run(['/bin/sh', '-c', `twinsync() { node ${TWINSYNC_BIN} "$@"; }; ${command}`], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cli.dir, LANG: 'C.UTF-8', TWINSYNC_DATA_DIR: cli.dataDir, TWINSYNC_CONFIG: cli.configFile },
      timeoutMs: 120_000,
    })

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    // A folder with a space: the commands must quote it.
    await mkdir(join(cli.dir, 'my plans'))
    planFile = join(cli.dir, 'my plans', 'plan.json')
    assert.equal((await twinsync('snapshot', '--init')).code, 0)
    // Something to apply: the twin asks for another motd.
    await writeFile(join(cli.twinDir, 'filesystem/etc/motd'), 'Pasted from a next step\n')
    const planned = await twinsync('plan', '--out', planFile)
    assert.equal(planned.code, 0, planned.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('PLAN_NOT_WRITTEN: plan --out into a missing folder or onto a folder is refused, nothing written', async () => {
    const missing = join(cli.dir, 'no such folder', 'plan.json')
    const r = await twinsync('plan', '--out', missing)
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[PLAN_NOT_WRITTEN\]/)
    assert.doesNotMatch(r.stderr, /bug in TwinSync/)
    assert.match(r.stderr, /no such folder/)
    assert.deepEqual(await readdir(cli.dir).then((names) => names.filter((n) => n.startsWith('no such'))), [])
    const onto = await twinsync('plan', '--out', join(cli.dir, 'my plans'))
    assert.equal(onto.code, 2, onto.stderr)
    assert.match(onto.stderr, /\[PLAN_NOT_WRITTEN\]/)
    assert.deepEqual((await readdir(join(cli.dir, 'my plans'))).filter((n) => n !== 'plan.json'), [], 'no temp file left beside the plan')
  })

  it('TWIN_DIRTY: forget of a path with a pending edit names the commands that list, apply or drop it', async () => {
    // Session 20: a pending edit of another path stays pending through a forget; only one of what is forgotten is refused.
    const r = await twinsync('forget', '/etc/motd')
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[TWIN_DIRTY\]/)
    const commands = commandsIn(r.stderr)
    assert.deepEqual(commands.slice(0, 2), [`twinsync status --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`, `twinsync apply --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`])
    assert.doesNotMatch(r.stderr, /twinsync snapshot|TWIN checkout/, 'a snapshot keeps edits pending: it would not unblock forget')
    const pasted = await paste(commands[0] as string)
    assert.equal(pasted.code, 0, pasted.stderr)
    assert.match(pasted.stdout, /files:replace:\/etc\/motd/)
  })

  it('PLAN_TAMPERED: make the plan again and apply it, with the real paths', async () => {
    const plan = JSON.parse(await readFile(planFile, 'utf8')) as { changes: Array<{ summary: string }> }
    plan.changes[0]!.summary = 'edited by hand'
    await writeFile(planFile, JSON.stringify(plan))
    const r = await twinsync('apply', planFile, '--yes', '--accept-high-risk')
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[PLAN_TAMPERED\]/)
    const [again, apply] = commandsIn(r.stderr)
    assert.equal(again, `twinsync plan --out '${planFile}' --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`)
    assert.equal(apply, `twinsync apply '${planFile}' --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`)
    const pasted = await paste(again as string)
    assert.equal(pasted.code, 0, pasted.stderr)
    assert.match(pasted.stdout, /Plan: 1 change/)
  })

  it('CONFIRMATION_REQUIRED: the apply to run again with --yes, which applies', async () => {
    const r = await twinsync('apply', planFile)
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[CONFIRMATION_REQUIRED\]/)
    const [yes] = commandsIn(r.stderr)
    assert.equal(yes, `twinsync apply '${planFile}' --yes --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`)
    const pasted = await paste(yes as string)
    assert.equal(pasted.code, 0, pasted.stderr + pasted.stdout)
    assert.equal(await readFile(join(rootfs.dir, 'etc/motd'), 'utf8'), 'Pasted from a next step\n')
  })

  it('PLAN_INVALID: a file that is not a plan gets the commands that make one', async () => {
    await writeFile(planFile, 'not a plan\n')
    const r = await twinsync('apply', planFile, '--yes', '--accept-high-risk')
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[PLAN_INVALID\]/)
    const [again] = commandsIn(r.stderr)
    const pasted = await paste(again as string)
    assert.equal(pasted.code, 0, pasted.stderr)
    assert.ok(JSON.parse(await readFile(planFile, 'utf8')).seal, 'a sealed plan was written where the bad one was')
  })

  it('USAGE: a saved plan with --only says how to plan with --only, then apply that file', async () => {
    const r = await twinsync('apply', planFile, '--only', 'files')
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[USAGE\]/)
    const [plan, apply] = commandsIn(r.stderr)
    assert.equal(plan, `twinsync plan --only files --out '${planFile}' --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`)
    assert.equal(apply, `twinsync apply '${planFile}' --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`)
    const pasted = await paste(plan as string)
    assert.equal(pasted.code, 0, pasted.stderr)
  })

  it('USAGE: rehearse with a saved plan and --from says the same, with rehearse', async () => {
    const r = await twinsync('rehearse', planFile, '--from', 'HEAD')
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /\[USAGE\]/)
    assert.deepEqual(commandsIn(r.stderr), [
      `twinsync plan --from HEAD --out '${planFile}' --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`,
      `twinsync rehearse '${planFile}' --root ${rootfs.dir} --repo ${cli.twinDir} --config ${cli.configFile}`,
    ])
  })
})
