// The twin's autostart entries are capped (MAX_AUTOSTART_ENTRIES in src/load.ts, with its figures,
// session 39): load refuses more unread (TWIN_INVALID naming the count and the limit), overLimit (a
// pull) answers by the same count; what this provider's last collect made of the machine is not
// counted. Before, the .desktop files and autostart.json's entries were read whatever their number
// (the files provider's manifest cap does not count them: they are this provider's).
import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryTwin, type ProviderContext } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { AutostartProvider, providers } from '../src/index.js'
import { MAX_AUTOSTART_ENTRIES as CAP } from '../src/load.js'

/** The cap as written here (the data does not hang on the import: on the code before it, there was none). */
const MAX_AUTOSTART_ENTRIES = 50_000

const JSON_PATH = 'system/startup/autostart.json'
const entry = (i: number) => `[Desktop Entry]\nType=Application\nName=App ${i}\nExec=/usr/bin/true ${i}\n`
const desktop = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ path: `filesystem/etc/xdg/autostart/a${from + i}.desktop`, content: entry(from + i) }))
const listing = (n: number) => JSON.stringify({ entries: Array.from({ length: n }, (_, i) => ({ path: `/etc/xdg/autostart/a${i}.desktop`, scope: 'system', mode: '0644', owner: 'root', group: 'root' })), ignored: [] })

describe('the twin\'s autostart entries over MAX_AUTOSTART_ENTRIES (session 39)', function () {
  this.timeout(60_000)
  let root: string
  let ctx: ProviderContext

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-autostart-cap-'))
    await mkdir(join(root, 'etc/xdg/autostart'), { recursive: true })
    await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
    await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
    await writeFile(join(root, 'etc/xdg/autostart/a0.desktop'), entry(0))
    ctx = createTestContext(root, { providers })
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('at the limit the .desktop files load; one more is TWIN_INVALID unread, and overLimit says the same', async () => {
    const provider = new AutostartProvider()
    const at = new MemoryTwin(desktop(MAX_AUTOSTART_ENTRIES))
    const loaded = await provider.load({ twin: at, ctx })
    assert.deepEqual([loaded.state?.entries.length, loaded.diagnostics], [MAX_AUTOSTART_ENTRIES, []])
    const over = new MemoryTwin(desktop(MAX_AUTOSTART_ENTRIES + 1))
    const refused = await provider.load({ twin: over, ctx })
    assert.equal(refused.state, undefined)
    assert.deepEqual(await provider.overLimit({ twin: at, ctx }), [])
    assert.deepEqual(refused.diagnostics.map((d) => [d.severity, d.code, d.provider]), [['error', 'TWIN_INVALID', 'autostart']])
    assert.match(refused.diagnostics[0]?.summary ?? '', /^The twin holds 50,001 autostart entries \(.*\), more than the 50,000 TwinSync takes; they were not read$/)
    assert.match(refused.diagnostics[0]?.detail ?? '', /^Nothing is planned for autostart\. Take the added \.desktop files out of the twin \(`git status` in the twin lists them\), or go back to the last snapshot's with `twinsync discard startup` \(drops every pending autostart and cron edit\)\.$/)
    assert.deepEqual(await provider.overLimit({ twin: over, ctx }), refused.diagnostics)
    assert.equal(CAP, MAX_AUTOSTART_ENTRIES)
  })

  it('an autostart.json listing more is TWIN_INVALID before its schema is checked; overLimit says the same', async () => {
    const provider = new AutostartProvider()
    const at = new MemoryTwin([{ path: JSON_PATH, content: listing(MAX_AUTOSTART_ENTRIES) }])
    const over = new MemoryTwin([{ path: JSON_PATH, content: listing(MAX_AUTOSTART_ENTRIES + 1) }])
    const refused = await provider.load({ twin: over, ctx })
    assert.equal(refused.state, undefined)
    assert.deepEqual(await provider.overLimit({ twin: at, ctx }), [])
    assert.deepEqual(refused.diagnostics.map((d) => [d.severity, d.code, d.path]), [['error', 'TWIN_INVALID', JSON_PATH]])
    assert.match(refused.diagnostics[0]?.summary ?? '', /^system\/startup\/autostart\.json lists 50,001 entries, more than the 50,000 TwinSync takes; it was not read$/)
    assert.match(refused.diagnostics[0]?.detail ?? '', /^Nothing is planned for autostart\. Take the added entries out of system\/startup\/autostart\.json, or go back to the last snapshot's with `twinsync discard startup` \(drops every pending autostart and cron edit\)\.$/)
    assert.deepEqual(await provider.overLimit({ twin: over, ctx }), refused.diagnostics)
  })

  it('the entries the last collect made of the machine are not counted (the machine\'s own); the twin\'s added ones are', async () => {
    const provider = new AutostartProvider()
    const collected = await provider.collect({ ctx })
    const own = collected.documents.map((d) => ({ path: d.path, content: String(d.content) }))
    // The machine's a0 and MAX + 1 added: those counted.
    const over = await provider.load({ twin: new MemoryTwin([...own, ...desktop(MAX_AUTOSTART_ENTRIES + 1, 1)]), ctx })
    assert.match(over.diagnostics[0]?.summary ?? '', /holds 50,001 autostart entries/)
    const at = await provider.load({ twin: new MemoryTwin(own), ctx })
    assert.deepEqual([at.state?.entries.length, at.diagnostics], [1, []])
    assert.ok(collected.documents.length > 0)
  })
})
