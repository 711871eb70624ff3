import { hostname } from 'node:os'
import type { HostPort } from '@twinsync/sdk'
import { TWIN_FORMAT_VERSION, type TwinInfo } from './twin-repository.js'

/** Who the twin is of: the target's own machine id and hostname, not the host's. */
export async function machineIdentity(host: HostPort): Promise<TwinInfo> {
  const machineId = (await host.readTextIfExists('/etc/machine-id', { follow: 'root-owned' }))?.trim() || null
  const fileHostname = (await host.readTextIfExists('/etc/hostname', { follow: 'root-owned' }))?.trim() || null
  return {
    formatVersion: TWIN_FORMAT_VERSION,
    machineId,
    hostname: host.live ? hostname() : fileHostname,
  }
}
