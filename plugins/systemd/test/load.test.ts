import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryTwin, validatorOf } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { SystemdProvider } from '../src/provider.js'
import { STARTUP_DOCUMENT, SystemdState, UNITS_DOCUMENT } from '../src/state.js'

describe('systemd load right after collect (MadeDocuments)', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-systemd-load-'))
    const lib = join(root, 'usr/lib/systemd/system')
    await mkdir(lib, { recursive: true })
    await mkdir(join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true })
    await writeFile(join(lib, 'a.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    await writeFile(join(lib, 'b.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    await writeFile(join(lib, 'multi-user.target'), '[Unit]\nDescription=Multi-User\n')
    await symlink('/usr/lib/systemd/system/a.service', join(root, 'etc/systemd/system/multi-user.target.wants/a.service'))
  })
  after(() => rm(root, { recursive: true, force: true }))

  it('takes the documents collect just made without a schema check, which they pass; any other text is checked', async () => {
    const provider = new SystemdProvider()
    const ctx = createTestContext(root)
    const live = await provider.collect({ ctx })
    const text = (path: string) => String(live.documents.find((d) => d.path === path)?.content)
    const candidate = { units: JSON.parse(text(UNITS_DOCUMENT)).units, startup: JSON.parse(text(STARTUP_DOCUMENT)) }
    assert.equal(validatorOf(SystemdState()).Check(candidate), true, 'what collect makes passes the schema')
    const same = await provider.load({ ctx, twin: new MemoryTwin(live.documents) })
    assert.deepEqual(same.diagnostics, [])
    assert.deepEqual(same.state?.units, live.state.units)
    assert.deepEqual(provider.diff({ desired: same.state as SystemdState, actual: live.state, ctx }).changes, [])
    // units.json with a state the schema refuses, right after that collect (the other documents as made): still refused.
    const edited = text(UNITS_DOCUMENT).replace('"enabled"', '"enabled; reboot"')
    assert.notEqual(edited, text(UNITS_DOCUMENT))
    const twin = new MemoryTwin(live.documents)
    twin.set(UNITS_DOCUMENT, edited)
    const loaded = await provider.load({ ctx, twin })
    assert.equal(loaded.state, undefined)
    assert.deepEqual(loaded.diagnostics.map((d) => [d.code, d.path]), [['TWIN_INVALID', UNITS_DOCUMENT]])
  })
})

describe('systemd load: units.json and runtime.json hold "units" and nothing else (session 41)', () => {
  const ctx = createTestContext('/nonexistent-root')
  const startup = JSON.stringify({ wantedAtBoot: [], enabledTimers: [] })
  const load = (units: string, runtime?: string) =>
    new SystemdProvider().load({ ctx, twin: new MemoryTwin([{ path: UNITS_DOCUMENT, content: units }, { path: STARTUP_DOCUMENT, content: startup }, ...(runtime === undefined ? [] : [{ path: 'system/services/runtime.json', content: runtime }])]) })
  const units = { 'a.service': { state: 'enabled' } }

  for (const [what, unitsText, runtimeText, file, message] of [
    ['a key beside "units" in units.json', JSON.stringify({ units, unit: { 'b.service': { state: 'disabled' } } }), undefined, UNITS_DOCUMENT, /"unit": unknown key/],
    ['a key beside "units" in runtime.json', JSON.stringify({ units }), JSON.stringify({ units: {}, extra: {} }), 'system/services/runtime.json', /"extra": unknown key/],
    ['a units.json that is an array', JSON.stringify([units]), undefined, UNITS_DOCUMENT, /is not a JSON object/],
    ['a units.json that is null', 'null', undefined, UNITS_DOCUMENT, /is not a JSON object/],
  ] as const) {
    it(`refuses ${what} (TWIN_INVALID naming the document), no state`, async () => {
      const loaded = await load(unitsText, runtimeText)
      assert.equal(loaded.state, undefined)
      assert.deepEqual(loaded.diagnostics.map((d) => [d.code, d.path]), [['TWIN_INVALID', file]])
      assert.match(loaded.diagnostics[0]?.summary ?? '', message)
    })
  }

  it('takes a units.json and runtime.json of "units" alone', async () => {
    const loaded = await load(JSON.stringify({ units }), JSON.stringify({ units: { 'a.service': { active: 'active', sub: 'running' } } }))
    assert.deepEqual(loaded.diagnostics, [])
    assert.deepEqual(loaded.state?.units, units)
  })
})
