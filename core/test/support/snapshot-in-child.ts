// A `twinsync snapshot` in a process of its own, over a unit rig's root and twin (another run at
// the same time as the test's own: a scheduled snapshot meeting a `status`). Prints one line of
// JSON: the commit made (null when unchanged), or the error's code, message and next step.
// Arguments: ROOT TWIN [GO]: with GO, "ready" is printed once the run has started, and the
// snapshot begins when the file GO exists (the test does something in between).
import { existsSync } from 'node:fs'
import { ProviderRegistry } from '../../src/providers/provider-registry.js'
import { SnapshotService } from '../../src/snapshot/snapshot-service.js'
import { notesProvider } from './notes-provider.js'
import { unitRig } from './unit-container.js'

const [root, twinDir, go] = process.argv.slice(2) as [string, string, string | undefined]
const rig = await unitRig([notesProvider('notes')], { at: { root, twinDir } })
await rig.container.resolve(ProviderRegistry).load()
if (go !== undefined) {
  process.stdout.write('ready\n')
  while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 10))
}
try {
  const result = await rig.container.resolve(SnapshotService).snapshot()
  process.stdout.write(`${JSON.stringify({ commit: result.commit ?? null, pending: result.pending })}\n`)
} catch (error) {
  const e = error as { code?: string; message: string; nextStep?: string }
  process.stdout.write(`${JSON.stringify({ code: e.code ?? null, message: e.message, nextStep: e.nextStep ?? null })}\n`)
}
