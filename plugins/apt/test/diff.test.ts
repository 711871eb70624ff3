import { strict as assert } from 'node:assert'
import { diffAptState, observeAptState } from '../src/diff.js'
import type { AptPackage, AptState } from '../src/state.js'

const pkg = (version: string, extra: Partial<AptPackage> = {}): AptPackage => ({ version, architecture: 'amd64', manual: true, hold: false, ...extra })
const state = (packages: Record<string, AptPackage>): AptState => ({ nativeArchitecture: 'amd64', packages })

describe('apt diff', () => {
  it('is empty for equal states', () => {
    const s = state({ aa: pkg('1'), bb: pkg('2', { manual: false, hold: true }) })
    assert.deepEqual(diffAptState(s, structuredClone(s)), { changes: [], diagnostics: [] })
  })

  it('installs manual packages missing live and removes manual ones the twin lacks (high risk)', () => {
    const { changes } = diffAptState(state({ hello: pkg('2.10-3'), depend: pkg('1', { manual: false }) }), state({ nano: pkg('7.2-1'), lib: pkg('1', { manual: false }) }))
    assert.deepEqual(
      changes.map((c) => [c.id, c.operation, c.resource, c.risk, c.data]),
      [
        ['apt:install:hello', 'install', 'hello', 'medium', { package: 'hello' }],
        ['apt:remove:nano', 'remove', 'nano', 'high', { package: 'nano' }],
      ],
    )
    assert.ok(changes.every((c) => c.provider === 'apt' && c.category === 'packages'))
    // The planner orders by these declarations: sources before installs, removals late.
    assert.ok(changes[0]?.needs?.includes('/etc/apt/sources.list.d/') && changes[0]?.needs?.includes('/etc/apt/keyrings/'))
    assert.equal(changes[1]?.removal, true)
    assert.equal(changes[0]?.removal, undefined)
  })

  it('reads an entry without a version as the candidate version, and says so in the plan', () => {
    const bare: AptPackage = { architecture: 'amd64', manual: true, hold: false }
    const { changes, diagnostics } = diffAptState(state({ hello: bare, nano: bare }), state({ nano: pkg('7.2-1') }))
    assert.deepEqual(
      changes.map((c) => [c.id, c.summary, c.after, c.data]),
      [['apt:install:hello', 'install hello (the candidate version)', 'the candidate version', { package: 'hello' }]],
      'nano is installed: no version asked, none differs',
    )
    assert.deepEqual(diagnostics, [])
    // A version without a pin is not what the install installs: the plan never shows it (session 40: "after" was 1.0).
    const unpinned = diffAptState(state({ hello: { ...bare, version: '1.0' } }), state({}))
    assert.deepEqual(unpinned.changes.map((c) => [c.summary, c.after, c.data]), [['install hello (the candidate version)', 'the candidate version', { package: 'hello' }]])
    assert.deepEqual(unpinned.diagnostics.map((d) => d.code), ['APT_VERSION_FROM_ARCHIVE'])
    // a pin needs a version to pin to
    const pinned = diffAptState(state({ hello: { ...bare, pinVersion: true } }), state({}))
    assert.deepEqual(pinned.changes, [])
    assert.deepEqual(pinned.diagnostics.map((d) => [d.code, d.severity, d.summary]), [['NAME_INVALID', 'error', 'The twin pins hello but gives no version']])
  })

  it('reconciles manual/auto marks and holds', () => {
    const { changes } = diffAptState(
      state({ aa: pkg('1'), bb: pkg('1', { manual: false }), cc: pkg('1', { hold: true }), dd: pkg('1') }),
      state({ aa: pkg('1', { manual: false }), bb: pkg('1'), cc: pkg('1'), dd: pkg('1', { hold: true }) }),
    )
    assert.deepEqual(changes.map((c) => c.id), ['apt:mark-manual:aa', 'apt:mark-auto:bb', 'apt:hold:cc', 'apt:unhold:dd'])
  })

  it('shows a version difference without changing it unless the twin pins the version', () => {
    const unpinned = diffAptState(state({ aa: pkg('2') }), state({ aa: pkg('1') }))
    assert.deepEqual(unpinned.changes, [])
    assert.deepEqual(unpinned.diagnostics.map((d) => [d.severity, d.code, d.summary]), [['info', 'APT_VERSION_DIFFERS', 'aa: the twin has 2, live is 1']])

    const pinned = diffAptState(state({ aa: pkg('2', { pinVersion: true }), nn: pkg('3', { pinVersion: true }) }), state({ aa: pkg('1') }))
    assert.deepEqual(
      pinned.changes.map((c) => [c.id, c.before, c.after, c.data]),
      [
        ['apt:install:aa', '1', '2', { package: 'aa', version: '2' }],
        ['apt:install:nn', undefined, '3', { package: 'nn', version: '3' }],
      ],
    )
  })

  it('holds a newly installed package after installing it, and releases a hold before removing', () => {
    const { changes } = diffAptState(state({ hello: pkg('1', { hold: true }) }), state({ kept: pkg('1', { hold: true }) }))
    assert.deepEqual(
      changes.map((c) => [c.id, c.requires]),
      [
        ['apt:install:hello', undefined],
        ['apt:hold:hello', ['apt:install:hello']],
        ['apt:unhold:kept', undefined],
        ['apt:remove:kept', ['apt:unhold:kept']],
      ],
    )
  })

  it('never installs or removes automatically installed packages on their own', () => {
    assert.deepEqual(diffAptState(state({ aa: pkg('1', { manual: false }) }), state({ bb: pkg('1', { manual: false }) })).changes, [])
  })

  it('refuses invalid names and versions from the twin as error diagnostics, not changes', () => {
    const { changes, diagnostics } = diffAptState(state({ 'hello; rm -rf /': pkg('1'), ok: pkg('1; reboot', { pinVersion: true }) }), state({}))
    assert.deepEqual(changes, [])
    assert.deepEqual(diagnostics.map((d) => [d.severity, d.code]), [['error', 'NAME_INVALID'], ['error', 'NAME_INVALID']])
  })
})

describe('apt observe: what happened between two snapshots', () => {
  it('names every package: dependencies installed or removed, unpinned version changes, marks and holds', () => {
    const before = state({ app: pkg('1.0'), gone: pkg('3', { manual: false }), tool: pkg('5'), held: pkg('1') })
    const after = state({ app: pkg('2.0'), lib: pkg('1.1', { manual: false }), tool: pkg('5', { manual: false }), held: pkg('1', { hold: true }), new: pkg('4', { hold: true }) })
    const { changes, diagnostics } = observeAptState(before, after)
    assert.deepEqual(diagnostics, [])
    assert.deepEqual(
      changes.map((c) => [c.operation, c.resource, c.before, c.after]),
      [
        ['install', 'app', '1.0', '2.0'],
        ['remove', 'gone', '3', undefined],
        ['hold', 'held', 'install', 'hold'],
        ['install', 'lib', undefined, '1.1'],
        ['install', 'new', undefined, '4'],
        ['hold', 'new', 'install', 'hold'],
        ['mark-auto', 'tool', 'manual', 'auto'],
      ],
    )
    // The plan's diff leaves the dependency and the unpinned upgrade alone: that is why history asks observe.
    assert.deepEqual([...new Set(diffAptState(after, before).changes.map((c) => c.resource))].sort(), ['held', 'new', 'tool'])
  })
})
