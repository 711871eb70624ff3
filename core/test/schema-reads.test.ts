import { strict as assert } from 'node:assert'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError, type TSchema } from '@twinsync/sdk'
import Type from 'typebox'
import { Planner } from '../src/plan/planner.js'
import { ConfigWorkflow } from '../src/services/effective-config.js'
import { StatusWorkflow } from '../src/services/drift-status.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { Tokens, registerValue } from '../src/tokens.js'
import { builtinProviders } from '../src/providers/builtin-providers.js'
import { notesProvider, type NotesProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

const Config = Type.Object({ maxItems: Type.Integer({ minimum: 1, default: 1000 }) }, { additionalProperties: false })
const State = Type.Object({ text: Type.String() }, { additionalProperties: false })

/** A provider whose schemas are getters that count their reads (a plugin that builds them when first read). */
function counted(name: string, overrides: Parameters<typeof notesProvider>[1] = {}): { provider: NotesProvider; reads: string[] } {
  const reads: string[] = []
  const provider = notesProvider(name, overrides)
  Object.defineProperty(provider, 'configSchema', { get: (): TSchema => (reads.push('configSchema'), Config), enumerable: true })
  Object.defineProperty(provider, 'stateSchema', { get: (): TSchema => (reads.push('stateSchema'), State), enumerable: true })
  return { provider, reads }
}

/**
 * The core reads a provider's `configSchema` only where it is used: the configuration's check
 * when the file has the provider's section, the provider's `ctx.config` when the provider reads
 * it, `twinsync config`. So a plugin that builds its schemas when first read (docs/plugin-authoring.md,
 * "What a plugin costs") loads no typebox on an unchanged snapshot, plan or status (issue 22).
 */
describe("a provider's schemas read only where they are used", function () {
  this.timeout(60_000)
  let rig: UnitRig | undefined
  afterEach(() => rig?.cleanup())

  async function setUp(providers: NotesProvider[], section: Record<string, unknown> = {}): Promise<UnitRig> {
    rig = await unitRig(providers)
    const builtin = (await builtinProviders()).map((b) => b.provider.name)
    registerValue(rig.container, Tokens.Config, { path: '/etc/twinsync/config.yaml', values: { providers: { disabled: builtin }, ...section } })
    for (const p of providers) await writeFile(join(rig.root, 'etc', p.name), 'first\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    return rig
  }

  it('a snapshot, plan and status read no schema of a provider the configuration file does not name and that reads no ctx.config', async () => {
    const quiet = counted('quiet')
    const r = await setUp([quiet.provider])
    await r.container.resolve(SnapshotService).snapshot()
    const again = await r.container.resolve(SnapshotService).snapshot()
    assert.equal(again.skipped, 'unchanged')
    await r.container.resolve(Planner).plan()
    await r.container.resolve(StatusWorkflow).status(undefined)
    assert.deepEqual(quiet.reads, [])
  })

  it("ctx.config still holds the schema's defaults for a provider that reads it, and `twinsync config` shows them", async () => {
    const seen: unknown[] = []
    const reader = counted('reader', {
      async collect({ ctx }) {
        seen.push(ctx.config, ctx.config)
        return { state: { text: '' }, documents: [{ path: 'system/reader.json', content: '{"text":""}\n' }], diagnostics: [] }
      },
    })
    const r = await setUp([reader.provider])
    await r.container.resolve(SnapshotService).snapshot()
    assert.deepEqual(seen, [{ maxItems: 1000 }, { maxItems: 1000 }])
    assert.equal(seen[0], seen[1], 'worked out once a context')
    assert.deepEqual(reader.reads, ['configSchema'])
    assert.deepEqual((await r.container.resolve(ConfigWorkflow).effective()).reader, { maxItems: 1000 })
  })

  it('a section the file has is checked against its schema: a bad value is CONFIG_INVALID, a good one is taken with the defaults filled in', async () => {
    const named = counted('named')
    const bad = await setUp([named.provider], { named: { maxItems: 0 } })
    await assert.rejects(bad.container.resolve(SnapshotService).snapshot(), (e: unknown) => isTwinSyncError(e) && e.code === 'CONFIG_INVALID' && /"named\.maxItems"/.test(e.message))
    assert.ok(named.reads.includes('configSchema'))
    await bad.cleanup()
    const seen: unknown[] = []
    const good = counted('named', {
      async collect({ ctx }) {
        seen.push(ctx.config)
        return { state: { text: '' }, documents: [{ path: 'system/named.json', content: '{"text":""}\n' }], diagnostics: [] }
      },
    })
    const r = await setUp([good.provider], { named: { maxItems: 5 } })
    await r.container.resolve(SnapshotService).snapshot()
    assert.deepEqual(seen, [{ maxItems: 5 }])
  })
})
