import { strict as assert } from 'node:assert'
import type { ApplyRequest } from '../../src/tui/services.js'
import { change, entry, fakeServices, KEYS, openPanel, planOf, type Panel } from './harness.js'

describe('TUI history & time machine', () => {
  let panel: Panel | undefined
  afterEach(() => panel?.unmount())

  const entries = [
    entry('aaa1', 'TwinSync apply 2026-11-23T12:00:00Z: 2 applied, 0 unchanged, 0 failed, 0 skipped', 'apply', { counts: { files: 1, services: 1 } }),
    entry('bbb2', 'TwinSync checkpoint before apply 2026-11-23T12:00:00Z', 'checkpoint'),
    entry('ccc3', 'TwinSync snapshot 2026-11-22T08:00:00Z', 'snapshot', { labels: ['before-upgrade'], counts: { packages: 3 } }),
  ]

  it('a pulled commit message and change summaries with a terminal escape, a right-to-left override and a newline: spelled out, no raw control byte (terminal-text.ts)', async () => {
    const evil = 'x\x1b]0;pwned\x07\u202egnp.exe\nfake'
    const hostile = [entry('ddd4', `forged ${evil}`, 'snapshot', { counts: { files: 1 }, labels: [`l${evil}`] })]
    const services = fakeServices({
      history: async () => hostile,
      show: async () => ({
        from: null,
        to: hostile[0]!,
        domains: { files: [{ provider: 'files', operation: 'create', resource: `/etc/${evil}`, summary: `/etc/${evil} created`, diff: `+${evil}\n` }] },
        diagnostics: [{ severity: 'warning', code: 'X', summary: `about ${evil}`, provider: 'files' }],
        counts: { files: 1 },
        counted: '1 file',
      }),
    })
    const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u
    panel = openPanel(services, [{ name: 'menu' }, { name: 'history' }])
    const list = await panel.waitFor('1 shown')
    assert.doesNotMatch(list, RAW, JSON.stringify(list))
    assert.match(list, /forged x\\e\]0;pwned\\x07\\u202egnp\.exe\\nfake/)
    await panel.press(KEYS.enter)
    const detail = await panel.waitFor('created')
    assert.doesNotMatch(detail, RAW, JSON.stringify(detail))
  })

  it('lists snapshots with markers and labels, opens one, and plans a revert to it', async () => {
    const plans: Array<{ from?: string | undefined; only?: string[] | undefined }> = []
    const applies: ApplyRequest[] = []
    const services = fakeServices({
      history: async () => entries,
      show: async (commit) => ({
        from: entries[1] ?? null,
        to: entries.find((e) => e.commit === commit) ?? entries[2]!,
        domains: { packages: [{ provider: 'apt', operation: 'install', resource: 'hello', summary: 'hello installed' }], files: [{ provider: 'files', operation: 'replace', resource: '/etc/motd', summary: '/etc/motd changed', diff: '--- a/etc/motd\n+++ b/etc/motd\n@@ -1 +1 @@\n-old\n+new\n' }] },
        diagnostics: [],
        counts: { packages: 1, files: 1 },
        counted: '1 file, 1 package',
      }),
      plan: async (options) => {
        plans.push({ from: options.from, only: options.only })
        return planOf([change('apt:remove:hello', 'packages', 'remove', { summary: 'Remove hello', risk: 'high' })])
      },
      apply: async (request) => {
        applies.push(request)
        return {
          checkpoint: null,
          commit: null,
          journalPath: 'j',
          journal: { startedAt: '', endedAt: '', root: '/', planBasis: null, checkpoint: null, interrupted: false, counts: { applied: 1, unchanged: 0, failed: 0, skipped: 0 }, steps: [], diagnostics: [] },
          exitCode: 0,
          keptPending: [],
          push: { status: 'not-configured', pushed: 0, url: null },
        }
      },
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'history' }])
    const list = await panel.waitFor('3 shown')
    assert.match(list, /❯ ▶ aaa10000/)
    assert.match(list, /◆ bbb20000/)
    assert.match(list, /• ccc30000 .*\(before-upgrade\)/)
    assert.match(list, /Enter open/)
    await panel.press(KEYS.down)
    await panel.press(KEYS.down)
    await panel.press(KEYS.enter)
    const detail = await panel.waitFor('hello installed')
    assert.match(detail, /Snapshot ccc300000000/)
    assert.match(detail, /packages: 1 package/)
    assert.match(detail, /files: 1 file/)
    assert.match(detail, /\+new/)
    assert.match(detail, /Plan revert to this snapshot/)
    await panel.press(KEYS.enter)
    await panel.waitFor('Revert to ccc300000000')
    await panel.waitFor('Plan: 1 change')
    assert.deepEqual(plans, [{ from: entries[2]!.commit, only: ['files', 'packages', 'services', 'startup'] }])
    await panel.press('a')
    await panel.press('y')
    await panel.waitFor('1 applied')
    assert.equal(applies[0]?.revertTo, entries[2]!.commit)
    await panel.press(KEYS.escape)
    await panel.waitFor('Main menu')
  })

  it('goes back from a snapshot to the list with Esc', async () => {
    const services = fakeServices({
      history: async () => entries,
      show: async () => ({ from: null, to: entries[0]!, domains: {}, diagnostics: [], counts: {}, counted: 'no changes' }),
    })
    panel = openPanel(services, [{ name: 'menu' }, { name: 'history' }])
    await panel.waitFor('3 shown')
    await panel.press(KEYS.enter)
    await panel.waitFor('No changes.')
    await panel.press(KEYS.escape)
    await panel.waitFor('3 shown')
    await panel.press('q')
    await panel.waitFor('Main menu')
  })
})
