import { hostname } from 'node:os'
import type { HostPort } from '@twinsync/sdk'
import { appSpecificMachineId, knownMachineId } from './twin-info.js'
import { TWIN_FORMAT_VERSION, type TwinInfo } from './twin-repository.js'

/** Who the twin is of: the target's own machine (its keyed hash, never the id: twin-info.ts) and hostname, not the host's. */
export async function machineIdentity(host: HostPort): Promise<TwinInfo> {
  const id = (await host.readTextIfExists('/etc/machine-id', { follow: 'root-owned' }))?.trim()
  const machineId = knownMachineId(id) ? appSpecificMachineId(id) : null
  const fileHostname = (await host.readTextIfExists('/etc/hostname', { follow: 'root-owned' }))?.trim() || null
  return {
    formatVersion: TWIN_FORMAT_VERSION,
    machineId,
    hostname: host.live ? hostname() : fileHostname,
  }
}
