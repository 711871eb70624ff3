import { strict as assert } from 'node:assert'
import { fileURLToPath } from 'node:url'
import { MemoryTwin, stableStringify, validatorOf } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { AptProvider } from '../src/provider.js'
import { APT_PINS_DOCUMENT } from '../src/pins.js'
import { APT_DOCUMENT, AptState } from '../src/state.js'

const FIXTURE_ROOT = fileURLToPath(new URL('./fixtures/root', import.meta.url))

describe('apt version pins (system/packages/apt-pins.json)', () => {
  const provider = new AptProvider()
  const ctx = createTestContext(FIXTURE_ROOT)
  const pins = (p: Record<string, string>) => stableStringify({ pins: p })

  it('lays the pins over apt.json: the pinned version is installed exactly', async () => {
    const live = await provider.collect({ ctx })
    const twin = new MemoryTwin(live.documents)
    twin.set(APT_PINS_DOCUMENT, pins({ hello: '2.10-2' }))
    const loaded = await provider.load({ ctx, twin })
    assert.deepEqual(loaded.diagnostics, [])
    assert.deepEqual(loaded.state?.packages['hello'], { version: '2.10-2', architecture: 'amd64', manual: true, hold: true, pinVersion: true })
    const { changes } = provider.diff({ desired: loaded.state as AptState, actual: live.state, ctx })
    assert.deepEqual(changes.map((c) => [c.id, c.before, c.after, c.data]), [['apt:install:hello', '2.10-3', '2.10-2', { package: 'hello', version: '2.10-2' }]])
  })

  it('survive a snapshot: collect never writes them and the snapshot does not own them', async () => {
    const first = await provider.collect({ ctx })
    const twin = new MemoryTwin(first.documents)
    twin.set(APT_PINS_DOCUMENT, pins({ hello: '2.10-3' }))
    // A snapshot writes what collect produced and removes only files under the provider's twinPaths.
    const again = await provider.collect({ ctx })
    assert.deepEqual(again.documents.map((d) => d.path), [APT_DOCUMENT])
    assert.ok(!(provider.twinPaths as readonly string[]).some((p) => (p.endsWith('/') ? APT_PINS_DOCUMENT.startsWith(p) : p === APT_PINS_DOCUMENT)))
    for (const doc of again.documents) twin.set(doc.path, doc.content)
    const loaded = await provider.load({ ctx, twin })
    assert.equal(loaded.state?.packages['hello']?.pinVersion, true)
    // Pinned to what is installed: nothing to do.
    assert.deepEqual(provider.diff({ desired: loaded.state as AptState, actual: again.state, ctx }).changes, [])
  })

  it('ignores, with a warning, a pin of a package apt.json does not list; refuses invalid names and versions', async () => {
    const twin = new MemoryTwin((await provider.collect({ ctx })).documents)
    twin.set(APT_PINS_DOCUMENT, pins({ nano: '7.2-1', 'x; reboot': '1', dpkg: '1.0 && reboot' }))
    const loaded = await provider.load({ ctx, twin })
    assert.deepEqual(loaded.diagnostics.map((d) => [d.severity, d.code, d.path]), [
      ['error', 'NAME_INVALID', 'dpkg'],
      ['warning', 'APT_PIN_UNLISTED', 'nano'],
      ['error', 'NAME_INVALID', 'x; reboot'],
    ])
    assert.equal(loaded.state?.packages['nano'], undefined)
    assert.equal(loaded.state?.packages['dpkg']?.pinVersion, undefined)
  })

  it('reports a malformed pins file as TWIN_INVALID and loads no state', async () => {
    const twin = new MemoryTwin((await provider.collect({ ctx })).documents)
    for (const bad of ['{', stableStringify({ hello: '1' }), stableStringify({ pins: { hello: 1 } })]) {
      twin.set(APT_PINS_DOCUMENT, bad)
      const loaded = await provider.load({ ctx, twin })
      assert.equal(loaded.state, undefined)
      assert.deepEqual(loaded.diagnostics.map((d) => [d.code, d.path]), [['TWIN_INVALID', APT_PINS_DOCUMENT]])
    }
  })

  it('warns that "pinVersion" written into apt.json does not survive the next snapshot, and still honours it', async () => {
    const live = await provider.collect({ ctx })
    const state = structuredClone(live.state)
    state.packages['hello'] = { ...(state.packages['hello'] as AptState['packages'][string]), version: '2.10-2', pinVersion: true }
    const loaded = await provider.load({ ctx, twin: new MemoryTwin([{ path: APT_DOCUMENT, content: stableStringify(state) }]) })
    assert.deepEqual(loaded.diagnostics.map((d) => [d.code, d.path]), [['APT_PIN_IN_SNAPSHOT', 'hello']])
    assert.match(loaded.diagnostics[0]?.detail ?? '', /apt-pins\.json.*"hello": "2\.10-2"/)
    assert.deepEqual(provider.diff({ desired: loaded.state as AptState, actual: live.state, ctx }).changes.map((c) => c.id), ['apt:install:hello'])
  })
})

describe('apt load right after collect (MadeDocuments)', () => {
  const ctx = createTestContext(FIXTURE_ROOT)

  it('takes the text collect just made without a schema check, which that text passes; any other text is checked', async () => {
    const provider = new AptProvider()
    const live = await provider.collect({ ctx })
    const text = String(live.documents.find((d) => d.path === APT_DOCUMENT)?.content)
    assert.equal(validatorOf(AptState()).Check(JSON.parse(text)), true, 'what collect makes passes the schema')
    const same = await provider.load({ ctx, twin: new MemoryTwin(live.documents) })
    assert.deepEqual(same, { state: JSON.parse(text), diagnostics: [] })
    // The same document with a mark the schema refuses, loaded right after that collect: still refused.
    const edited = text.replace('"manual": true', '"manual": "yes"')
    assert.notEqual(edited, text)
    const loaded = await provider.load({ ctx, twin: new MemoryTwin([{ path: APT_DOCUMENT, content: edited }]) })
    assert.equal(loaded.state, undefined)
    assert.deepEqual(loaded.diagnostics.map((d) => [d.code, d.path]), [['TWIN_INVALID', APT_DOCUMENT]])
  })
})
