import { TwinSyncError } from '@twinsync/sdk'

export const TWIN_FORMAT_VERSION = 1

export interface TwinInfo {
  formatVersion: number
  machineId: string | null
  hostname: string | null
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
  for (const key of ['machineId', 'hostname'] as const) {
    const x = v[key]
    if (x !== undefined && x !== null && (typeof x !== 'string' || x.length > 255 || /[\0-\x1f]/.test(x))) {
      throw invalid(`"${key}" is not a short single-line string`, key)
    }
  }
  return { formatVersion: v.formatVersion, machineId: (v.machineId as string | null | undefined) ?? null, hostname: (v.hostname as string | null | undefined) ?? null }
}
