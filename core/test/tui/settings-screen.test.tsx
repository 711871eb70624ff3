import { strict as assert } from 'node:assert'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FilesProvider } from '@twinsync/plugin-files'
import { PathClaims, TwinSyncError } from '@twinsync/sdk'
import type { SettingsValues } from '../../src/tui/services.js'
import { saveSettings } from '../../src/tui/settings-file.js'
import { fakeServices, KEYS, openPanel, type Panel } from './harness.js'

describe('TUI settings', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())
  /** Down until the selected row matches. */
  const moveTo = async (row: RegExp) => {
    for (let i = 0; i < 30 && !row.test(panel!.frame()); i++) await panel!.press(KEYS.down)
    await panel!.waitFor(row)
  }

  it('edits paths, ignore rules and limits, and saves them through the service', async () => {
    const saved: SettingsValues[] = []
    panel = openPanel(fakeServices({ saveSettings: async (v) => (saved.push(v), { path: '/etc/twinsync/config.yaml' }) }), [{ name: 'menu' }, { name: 'settings' }])
    const first = await panel.waitFor('Files: paths mirrored (include)')
    assert.match(first, /❯ \/etc\s+\(the default list\)/)
    // Whether a mirror is linked comes from the status line's facts, checked after the first paint.
    await panel.waitFor(/GitHub: not linked/)
    assert.match(first, /s save/)
    // Add a path: the default list becomes an explicit one with the new path at the end.
    await moveTo(/❯ \+ add a path/)
    await panel.press(KEYS.enter)
    await panel.waitFor('Path (/… or ~/…): /')
    for (const c of 'srv/app') await panel.press(c)
    await panel.press(KEYS.enter)
    await panel.waitFor('/srv/app')
    // An ignore rule.
    await moveTo(/❯ \+ add an ignore rule/)
    await panel.press(KEYS.enter)
    for (const c of '*.bak') await panel.press(c)
    await panel.press(KEYS.enter)
    // A limit, and one that is not a number.
    await moveTo(/❯ logLines\s+200 \(default\)/)
    await panel.press(KEYS.enter)
    for (const c of '50') await panel.press(c)
    await panel.press(KEYS.enter)
    await panel.waitFor(/logLines\s+50/)
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    await panel.press('x')
    await panel.press(KEYS.enter)
    await panel.waitFor('logBytes must be a whole number')
    assert.match(panel.frame(), /\(unsaved\)/)
    await panel.press('s')
    await panel.waitFor('Saved /etc/twinsync/config.yaml')
    assert.deepEqual(saved, [{ include: ['/etc', '~/.config', '/srv/app'], ignore: ['*.bak'], limits: { logLines: 50 } }])
  })

  it('shows a refused configuration with its code and next step, and asks before discarding edits', async () => {
    panel = openPanel(
      fakeServices({
        saveSettings: async () => {
          throw new TwinSyncError('CONFIG_INVALID', 'Not saved: /etc/twinsync/config.yaml: "files.include.2": must match pattern', { nextStep: 'Correct "files.include.2" in /etc/twinsync/config.yaml.' })
        },
      }),
      [{ name: 'menu' }, { name: 'settings' }],
    )
    await panel.waitFor('Files: paths mirrored')
    await panel.press('d') // delete /etc: the list becomes explicit
    await panel.press('s')
    const frame = await panel.waitFor('[CONFIG_INVALID]')
    assert.match(frame, /Next step: Correct "files.include.2"/)
    await panel.press(KEYS.escape)
    await panel.waitFor('Unsaved changes')
    await panel.press(KEYS.escape)
    await panel.waitFor('Main menu')
  })
})

describe('settings file', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-settings-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  // Only the providers' schemas are needed from the registry.
  const registry = { load: async () => ({ providers: [{ provider: new FilesProvider(), source: '@twinsync/plugin-files', disabled: false }], claims: new PathClaims(), diagnostics: [] }) }

  it('changes only the edited keys and keeps comments and other keys', async () => {
    const path = join(dir, 'config.yaml')
    await writeFile(path, '# my twin\nrepo: /srv/twin   # where it lives\nlimits:\n  topProcesses: 5\nfiles:\n  users: default\n')
    await saveSettings(path, { include: ['/etc', '/srv/app'], ignore: ['*.bak'], limits: { logLines: 50, topProcesses: 5 } }, registry)
    const text = await readFile(path, 'utf8')
    assert.match(text, /^# my twin$/m)
    assert.match(text, /repo: \/srv\/twin +# where it lives/)
    assert.match(text, /users: default/)
    assert.match(text, /logLines: 50/)
    assert.match(text, /- \/srv\/app/)
    assert.match(text, /- "\*\.bak"|- '\*\.bak'|- \*\.bak/)
  })

  it('refuses an invalid configuration before replacing the file, naming the real file', async () => {
    const path = join(dir, 'config.yaml')
    const before = 'limits:\n  logLines: 10\n'
    await writeFile(path, before)
    await assert.rejects(
      saveSettings(path, { include: ['relative/path'], ignore: [], limits: { logLines: 10 } }, registry),
      (e: TwinSyncError) => e.code === 'CONFIG_INVALID' && e.message.includes(path) && !e.message.includes('.tmp') && (e.nextStep ?? '').length > 0,
    )
    await assert.rejects(
      saveSettings(path, { include: undefined, ignore: [], limits: { logLines: 10_000_000 } }, registry),
      (e: TwinSyncError) => e.code === 'CONFIG_INVALID' && /logLines/.test(e.message),
    )
    assert.equal(await readFile(path, 'utf8'), before)
  })

  it('creates a missing file', async () => {
    const path = join(dir, 'sub', 'config.yaml')
    await saveSettings(path, { include: undefined, ignore: ['node_modules'], limits: {} }, registry)
    assert.match(await readFile(path, 'utf8'), /files:\n  ignore:\n    - node_modules/)
  })
})
