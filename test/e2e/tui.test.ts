import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, startTmux, TWINSYNC_IN_CONTAINER, type Container, type TmuxSession } from '../bed/index.js'

const TWIN = '/var/lib/twinsync/twin'

interface PlanJson {
  changes: Array<{ id: string }>
}

/**
 * The control panel as a person uses it: the real binary in a terminal (tmux, 80x24), inside a
 * booted Debian container, driven one key at a time.
 */
describe('the control panel in a terminal, inside a booted Debian container', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container
  let tmux: TmuxSession | undefined

  /** `twinsync` with no arguments, inside the container, in a fresh terminal. */
  const openPanel = async () => {
    await tmux?.close()
    tmux = await startTmux(
      ['nsenter', '--target', String(ct.pid), '--all', 'env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', 'TERM=xterm-256color', 'node', TWINSYNC_IN_CONTAINER],
      { cols: 80, rows: 24 },
    )
    await tmux.waitFor('❯ 1. Init / GitHub linking', 30_000)
    return tmux
  }

  before(async () => {
    ct = await bootContainer()
    const init = await ct.twinsync(['snapshot', '--init'])
    assert.equal(init.code, 0, init.stderr)
  })

  after(async () => {
    await tmux?.close()
    await ct?.close()
  })

  it('takes a snapshot from the menu, then opens it in History and goes back', async () => {
    const t = await openPanel()
    const menu = await t.screen()
    assert.match(menu, /Pull & apply changes/)
    assert.match(menu, /↑↓ move/)
    assert.match(menu, new RegExp(TWIN))
    await t.send('Down')
    await t.send('Enter')
    await t.waitFor('Take a snapshot now?', 30_000)
    assert.match(await t.screen(), /✓ files\s+files/)
    await t.send('Left')
    await t.send('Enter')
    // The diary line, or only the stamp when nothing but volatile facts (processes, logs) moved.
    const done = await t.waitFor(/Snapshot [0-9a-f]{12} {2}(first snapshot: |[a-z]+: |TwinSync snapshot \d{4}-)|Nothing changed since the last snapshot/, 120_000)
    assert.match(done, /GitHub not linked|Push:/)
    await t.send('Enter')
    await t.waitFor('TwinSync › Main menu')
    await t.send('4')
    await t.waitFor('❯ 4. History')
    await t.send('Enter')
    const history = await t.waitFor(/\d+ shown/, 30_000)
    assert.match(history, /❯ • [0-9a-f]{8} .*snapshot/)
    assert.match(history, /• [0-9a-f]{8} .*init/)
    await t.send('Enter')
    const detail = await t.waitFor('Changes since', 30_000)
    assert.match(detail, /Plan revert to this snapshot/)
    await t.send('Escape')
    await t.waitFor(/\d+ shown/)
    await t.send('Escape')
    await t.waitFor('TwinSync › Main menu')
    await t.send('q')
    assert.equal(await t.waitForExit(), 0)
  })

  it('applies a changed twin with one change left out, which stays pending', async () => {
    // Two changes in the twin: a file's content, and a unit's state.
    await ct.writeFile(`${TWIN}/filesystem/etc/motd`, 'Managed by TwinSync\n')
    await ct.runOk([
      'node',
      '-e',
      `const fs=require('fs');const p='${TWIN}/system/services/units.json';const d=JSON.parse(fs.readFileSync(p,'utf8'));d.units['e2scrub_reap.service'].state='disabled';fs.writeFileSync(p,JSON.stringify(d,null,2)+'\\n')`,
    ])
    const motdBefore = await ct.readFile('/etc/motd')
    assert.equal((await ct.run(['systemctl', 'is-enabled', 'e2scrub_reap.service'])).stdout.trim(), 'enabled')

    const t = await openPanel()
    await t.send('3')
    await t.waitFor('❯ 3. Pull & apply')
    await t.send('Enter')
    const summary = await t.waitFor('Plan: 2 changes', 120_000)
    assert.match(summary, /files\s+1 \(1 replace\)/)
    assert.match(summary, /services\s+1 \(1 disable\)/)
    await t.send('Enter') // files
    await t.waitFor('❯ [x] replace /etc/motd')
    await t.send('Enter')
    await t.waitFor('+Managed by TwinSync')
    await t.send('Escape')
    await t.waitFor('❯ [x] replace /etc/motd')
    await t.send('Space')
    await t.waitFor('❯ [ ] replace /etc/motd')
    await t.send('Escape')
    const left = await t.waitFor('1 left out')
    assert.match(left, /Left out: replace \/etc\/motd/)
    await t.send('a')
    await t.waitFor('Apply these changes?')
    assert.match(await t.screen(), /1 change will be applied; 1 left out/)
    await t.send('Left') // Yes
    await t.send('Enter')
    const done = await t.waitFor(/\d+ applied, \d+ unchanged, \d+ failed, \d+ skipped/, 300_000)
    assert.match(done, /1 applied, 0 unchanged, 0 failed, 0 skipped/)
    assert.match(done, /✓ applied\s+Disable e2scrub_reap\.service/i)
    assert.match(done, /Checkpoint before: [0-9a-f]{12}/)
    assert.match(done, /Left out, still pending in the twin for the next plan: filesystem\/etc\/motd/)
    await t.send('Enter')
    await t.waitFor('TwinSync › Main menu')
    await t.send('q')
    assert.equal(await t.waitForExit(), 0)

    // The machine: the approved change is done, the declined one is not.
    assert.equal((await ct.run(['systemctl', 'is-enabled', 'e2scrub_reap.service'])).stdout.trim(), 'disabled')
    assert.equal(await ct.readFile('/etc/motd'), motdBefore)
    // The next plan: the declined change is still pending, the approved one is gone.
    const planned = await ct.twinsync(['plan', '--json'])
    assert.equal(planned.code, 0, planned.stderr)
    const ids = (JSON.parse(planned.stdout) as PlanJson).changes.map((c) => c.id)
    assert.ok(ids.includes('files:replace:/etc/motd'), ids.join(', '))
    assert.ok(!ids.some((id) => id.includes('e2scrub_reap')), ids.join(', '))
  })
})
