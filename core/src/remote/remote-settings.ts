import { readFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { stableStringify, writeFileAtomic } from '@twinsync/sdk/light'

/** How the twin is mirrored. Kept in .git (never committed); the URL never carries a token. */
export interface RemoteSettings {
  kind: 'github' | 'git'
  url: string
  /** GitHub only. */
  owner?: string
  repo?: string
  apiUrl?: string
}

export const REMOTE_NAME = 'mirror'
export const MIRROR_BRANCH = 'main'

export function settingsPath(twinDir: string): string {
  return join(twinDir, '.git', 'twinsync', 'remote.json')
}

export async function readRemoteSettings(twinDir: string): Promise<RemoteSettings | undefined> {
  try {
    return JSON.parse(readFileSync(settingsPath(twinDir), 'utf8')) as RemoteSettings
  } catch {
    return undefined
  }
}

export async function writeRemoteSettings(twinDir: string, settings: RemoteSettings): Promise<void> {
  await mkdir(dirname(settingsPath(twinDir)), { recursive: true, mode: 0o700 })
  await writeFileAtomic(settingsPath(twinDir), stableStringify(settings), { mode: 0o600 })
}

export async function removeRemoteSettings(twinDir: string): Promise<void> {
  await rm(settingsPath(twinDir), { force: true })
}
