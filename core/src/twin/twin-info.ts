import { createHmac } from 'node:crypto'
import { TwinSyncError } from '@twinsync/sdk/light'

export const TWIN_FORMAT_VERSION = 1

export interface TwinInfo {
  formatVersion: number
  /**
   * Which machine the twin is of: TwinSync's application-specific id of the machine (appSpecificMachineId),
   * never /etc/machine-id itself (session 22). twin.json's `machine`; from a twin.json an older
   * TwinSync wrote, worked out of its `machineId` (the machine id itself).
   */
  machineId: string | null
  hostname: string | null
}

/**
 * TwinSync's application id for machine-id(5)'s keyed hash. machine-id(5): the machine id "should
 * be considered confidential" and an application that needs a stable id of the machine should
 * hash it "with a cryptographic, keyed hash function, using a fixed, application-specific key"
 * (sd_id128_get_machine_app_specific). The twin is mirrored: it holds that hash, never the id.
 */
export const TWINSYNC_APP_ID = '0ad0d576dc854d76b5ab6b2fdfa6c74c'

/** A machine id that says which machine it is: 32 hex digits (not empty, not systemd's "uninitialized" of a first boot). */
export function knownMachineId(id: string | null | undefined): id is string {
  return typeof id === 'string' && /^[0-9a-f]{32}$/.test(id)
}

/**
 * The machine's id for TwinSync, as `systemd-id128 machine-id --app-specific=TWINSYNC_APP_ID`
 * prints it on that machine (sd_id128_get_machine_app_specific: HMAC-SHA256 keyed by the machine
 * id's 16 bytes over the application id's, its first 16 bytes made a version 4 UUID). The same
 * machine gives the same id, another machine another; the machine id cannot be read back from it.
 */
export function appSpecificMachineId(machineId: string): string {
  const h = createHmac('sha256', Buffer.from(machineId, 'hex')).update(Buffer.from(TWINSYNC_APP_ID, 'hex')).digest().subarray(0, 16)
  h[6] = ((h[6] as number) & 0x0f) | 0x40
  h[8] = ((h[8] as number) & 0x3f) | 0x80
  return h.toString('hex')
}

/** twin.json's content for this info: the machine as `machine` (an older TwinSync, which reads `machineId`, finds none and compares nothing). */
export function twinInfoFile(info: TwinInfo): { formatVersion: number; machine: string | null; hostname: string | null } {
  return { formatVersion: info.formatVersion, machine: info.machineId, hostname: info.hostname }
}

/**
 * twin.json, checked by hand (typebox's value module costs 150 ms at start-up and this file is
 * read by every command): a twin from a mirror is input like any other.
 */
export function parseTwinInfo(dir: string, bytes: Uint8Array | undefined): TwinInfo {
  const invalid = (why: string, key?: string) =>
    new TwinSyncError('REPO_INVALID', `${dir}/twin.json is not valid: ${why}`, {
      nextStep: `Restore it from history (\`git -C ${dir} checkout HEAD -- twin.json\`) or from a good snapshot.`,
      details: { file: 'twin.json', ...(key === undefined ? {} : { key }) },
    })
  if (bytes === undefined) throw invalid('missing or not a regular file')
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    throw invalid('not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('not a JSON object')
  const v = value as Record<string, unknown>
  if (typeof v.formatVersion !== 'number' || !Number.isInteger(v.formatVersion)) throw invalid('"formatVersion" is not an integer', 'formatVersion')
  for (const key of ['machine', 'machineId', 'hostname'] as const) {
    const x = v[key]
    if (x !== undefined && x !== null && (typeof x !== 'string' || x.length > 255 || /[\0-\x1f]/.test(x))) {
      throw invalid(`"${key}" is not a short single-line string`, key)
    }
  }
  // An older twin.json's `machineId` is the machine id itself: compared as its keyed hash.
  const legacy = v.machineId as string | null | undefined
  const machine = (v.machine as string | null | undefined) ?? (knownMachineId(legacy) ? appSpecificMachineId(legacy) : (legacy ?? null))
  return { formatVersion: v.formatVersion, machineId: machine, hostname: (v.hostname as string | null | undefined) ?? null }
}
