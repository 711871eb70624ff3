import { hostname } from 'node:os'
import type { HostPort } from '@twinsync/sdk'
import { REDACTED, secretRuleInName } from '@twinsync/sdk/light'
import { appSpecificMachineId, knownMachineId } from './twin-info.js'
import { TWIN_FORMAT_VERSION, type TwinInfo } from './twin-repository.js'

/**
 * Who the twin is of: the target's own machine (its keyed hash, never the id: twin-info.ts) and
 * hostname, not the host's. A hostname the secret detector finds a secret in (the SDK's one rule
 * for a name, secretRuleInName) is `<redacted>`: twin.json is committed by `init` unscreened, and
 * the push scan then refused every push for it, a file `forget` will not take out (session 46, a
 * Slack bot token is a valid host name label). It only names the machine in messages and a new
 * GitHub repository's description; the machine is known by its id.
 */
export async function machineIdentity(host: HostPort): Promise<TwinInfo> {
  const id = (await host.readTextIfExists('/etc/machine-id', { follow: 'root-owned' }))?.trim()
  const machineId = knownMachineId(id) ? appSpecificMachineId(id) : null
  const fileHostname = (await host.readTextIfExists('/etc/hostname', { follow: 'root-owned' }))?.trim() || null
  const name = host.live ? hostname() : fileHostname
  return {
    formatVersion: TWIN_FORMAT_VERSION,
    machineId,
    hostname: name === null || (await secretRuleInName(name)) === undefined ? name : REDACTED,
  }
}
