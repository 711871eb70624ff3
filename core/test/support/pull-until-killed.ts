// A `twinsync pull` in a process of its own, over a unit rig's root and twin, with TwinSync's git
// looked for in BIN first: a wrapper there kills this process where a test wants a kill -9 (a
// run killed, not a git that failed: nothing after the kill runs, no catch, no finally).
// Arguments: ROOT TWIN BIN.
import { SAFE_PATH, setOwnPathForTests } from '@twinsync/sdk'
import { ProviderRegistry } from '../../src/providers/provider-registry.js'
import { RemoteService } from '../../src/remote/remote-service.js'
import { notesProvider } from './notes-provider.js'
import { unitRig } from './unit-container.js'

const [root, twinDir, bin] = process.argv.slice(2) as [string, string, string]
setOwnPathForTests(`${bin}:${SAFE_PATH}`)
const rig = await unitRig([notesProvider('notes')], { at: { root, twinDir } })
await rig.container.resolve(ProviderRegistry).load()
await rig.container.resolve(RemoteService).pull()
