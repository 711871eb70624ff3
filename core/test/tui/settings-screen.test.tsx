import { strict as assert } from 'node:assert'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FilesProvider } from '@twinsync/plugin-files'
import { PathClaims, TwinSyncError } from '@twinsync/sdk'
import type { SettingsValues, TuiServices } from '../../src/tui/services.js'
import { saveSettings, saveTwinPlace } from '../../src/tui/settings-file.js'
import { fakeServices, KEYS, openPanel, sleep, type Panel } from './harness.js'

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
    // Typed once the field is there (CI at load 15-20, session 45: the '*' reached the list, not the field).
    await panel.waitFor('Ignore rule (glob):')
    for (const c of '*.bak') await panel.press(c)
    await panel.press(KEYS.enter)
    // A limit, and one that is not a number.
    await moveTo(/❯ logLines\s+200 \(default\)/)
    await panel.press(KEYS.enter)
    await panel.waitFor('logLines:')
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

describe('TUI settings: where the twin lives (issue 23 item 5)', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())
  const BACKSPACE = '\x7f'
  /** A twin at /t whose place moves when moveTwin is called; the status line reads location(). */
  const movable = (overrides: Partial<TuiServices> = {}) => {
    const state = { dir: '/t', moved: [] as string[], inits: 0, drifts: 0 }
    const services = fakeServices({
      location: () => ({ dir: state.dir, source: 'config' }),
      lastSnapshot: async () => undefined,
      drift: async () => (state.drifts++, { drift: false, changes: 0, pending: 0 }),
      moveTwin: async (dir) => {
        state.moved.push(dir)
        state.dir = dir
        return { path: '/etc/twinsync/config.yaml', place: { dir, holds: 'twin' } }
      },
      initTwin: async () => (state.inits++, { repo: state.dir, created: true, commit: undefined }),
      ...overrides,
    })
    return { state, services }
  }
  const typePlace = async (dir: string) => {
    for (let i = 0; i < 30 && !/❯ \/t\s+\(from `repo:` in this file\)/.test(panel!.frame()); i++) await panel!.press(KEYS.down)
    await panel!.waitFor(/❯ \/t\s+\(from `repo:` in this file\)/)
    await panel!.press(KEYS.enter)
    await panel!.waitFor('Twin repository (absolute path): /t')
    await panel!.burst(BACKSPACE, BACKSPACE, ...dir)
    await panel!.press(KEYS.enter)
  }

  it('moves to an existing twin after saying that the old one stays where it is; the status line follows', async () => {
    const { state, services } = movable({ checkTwinPlace: async (dir) => ({ dir, holds: 'twin', info: { formatVersion: 1, machineId: null, hostname: 'web2' } }) })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'settings' }])
    await panel.waitFor('drift: none')
    await typePlace('/srv/t2')
    const question = await panel.waitFor('Use /srv/t2 from now on?')
    assert.match(question, /\/srv\/t2 holds a twin of web2: TwinSync will use it as it is\./)
    assert.match(question, /The twin at \/t stays where it is: nothing is moved, copied or deleted\./)
    assert.deepEqual(state.moved, [], 'nothing written before the answer')
    await panel.press('y')
    const after = await panel.waitFor('Every screen now uses the twin there.')
    assert.match(after, /The twin is now \/srv\/t2 \(`repo:` in \/etc\/twinsync\/config\.yaml\)\. The twin at \/t stays where it is/)
    assert.deepEqual(state.moved, ['/srv/t2'])
    // The status line names the new place and is checked again there.
    for (let i = 0; i < 200 && state.drifts < 2; i++) await sleep(15)
    assert.equal(state.drifts, 2)
    await panel.waitFor(/ \/srv\/t2 .*drift: none/)
    assert.doesNotMatch(after, /press i/)
  })

  it('an empty place: says init is needed and offers it; i creates the twin there', async () => {
    const { state, services } = movable({
      checkTwinPlace: async (dir) => ({ dir, holds: 'empty' }),
      moveTwin: async (dir) => ((state.dir = dir), { path: '/etc/twinsync/config.yaml', place: { dir, holds: 'empty' } }),
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'settings' }])
    await typePlace('/t9')
    assert.match(await panel.waitFor('Use /t9 from now on?'), /\/t9 is an empty folder: a twin must be created there \(init\)/)
    await panel.press(KEYS.enter) // No is the default: nothing changes
    await panel.waitFor('The twin stays at /t.')
    assert.equal(state.dir, '/t')
    await typePlace('/t9')
    await panel.waitFor('Use /t9 from now on?')
    await panel.press('y')
    const offer = await panel.waitFor('press i to create it now')
    assert.match(offer, /i create the twin there/)
    await panel.press('i')
    await panel.waitFor('Created the twin at /t9')
    assert.equal(state.inits, 1)
  })

  it('a refused place: the error with its next step, and the twin stays', async () => {
    const { state, services } = movable({
      checkTwinPlace: async (dir) => {
        throw new TwinSyncError('REPO_PLACE_INVALID', `The twin cannot live at ${dir}: ${dir} is inside /etc, which snapshots mirror`, { nextStep: 'Choose a place outside the mirrored paths.' })
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'settings' }])
    await typePlace('/etc/t')
    const frame = await panel.waitFor('[REPO_PLACE_INVALID]')
    assert.match(frame, /The twin stays at \/t\./)
    assert.match(frame, /Next step: Choose a place outside the mirrored paths\./)
    assert.deepEqual(state.moved, [])
  })

  it('a twin given by --repo is not changed from here, and Settings says why', async () => {
    const { state, services } = movable({ location: () => ({ dir: '/t', source: 'flag' }) })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'settings' }])
    for (let i = 0; i < 30 && !/❯ \/t\s+\(from --repo/.test(panel.frame()); i++) await panel.press(KEYS.down)
    await panel.waitFor(/❯ \/t\s+\(from --repo, for this run only\)/)
    await panel.press(KEYS.enter)
    await panel.waitFor('start `twinsync tui` without --repo')
    assert.deepEqual(state.moved, [])
  })
})

describe('settings file', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-settings-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  // Only the providers' schemas are needed from the registry.
  const registry = { load: async () => ({ providers: [{ provider: new FilesProvider(), source: '@twinsync/plugin-files', disabled: false, codes: {} }], claims: new PathClaims(), diagnostics: [] }) }

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

  // Session 17's rule (files.include takes no kernel interface), in the panel's words as the CLI's.
  for (const include of ['/proc/sys/kernel', '/sys', '/dev/', '/']) {
    it(`refuses files.include ${include} before the file is written, saying why (CONFIG_INVALID, as a command loading it does)`, async () => {
      const path = join(dir, 'config.yaml')
      const before = 'files:\n  include: [/etc]\n'
      await writeFile(path, before)
      await assert.rejects(
        saveSettings(path, { include: ['/etc', include], ignore: [], limits: {} }, registry),
        (e: TwinSyncError) => e.code === 'CONFIG_INVALID' && /"files\.include\.1": .*not \/, \/proc, \/sys or \/dev/.test(e.message) && e.message.includes(path),
      )
      assert.equal(await readFile(path, 'utf8'), before)
    })
  }

  it('writes `repo:` alone, keeping the rest of the file, and checks the file before replacing it', async () => {
    const path = join(dir, 'config.yaml')
    await writeFile(path, '# my twin\nrepo: /srv/twin   # where it lives\nfiles:\n  users: default\n')
    await saveTwinPlace(path, '/srv/other', registry)
    const text = await readFile(path, 'utf8')
    assert.match(text, /^# my twin$/m)
    assert.match(text, /^repo: \/srv\/other/m)
    assert.match(text, /users: default/)
    const broken = 'files:\n  colour: blue\n'
    await writeFile(path, broken)
    await assert.rejects(saveTwinPlace(path, '/srv/other', registry), (e: TwinSyncError) => e.code === 'CONFIG_INVALID')
    assert.equal(await readFile(path, 'utf8'), broken)
  })

  it('creates a missing file', async () => {
    const path = join(dir, 'sub', 'config.yaml')
    await saveSettings(path, { include: undefined, ignore: ['node_modules'], limits: {} }, registry)
    assert.match(await readFile(path, 'utf8'), /files:\n  ignore:\n    - node_modules/)
  })
})
