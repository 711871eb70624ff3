import type { HostPort } from '@twinsync/sdk'
import { RC_LOCAL_UNIT_PATHS } from './state.js'

export interface RcLocalService {
  /** The unit file found, most specific place first. */
  service?: string
  masked: boolean
}

/**
 * systemd runs /etc/rc.local at boot through rc-local.service (pulled in by Debian's
 * rc-local generator when the file is executable). Masking it in /etc stops it.
 */
export async function findRcLocalService(host: HostPort): Promise<RcLocalService> {
  for (const path of RC_LOCAL_UNIT_PATHS) {
    const link = await host.lstat(path)
    if (link === undefined) continue
    if (link.type === 'symlink' && (await host.readlink(path)) === '/dev/null') return { service: path, masked: true }
    if ((await host.stat(path))?.type === 'file') return { service: path, masked: false }
  }
  return { masked: false }
}

/** The interpreter of a `#!` line ("/bin/sh -e"), or undefined without one. */
export function interpreterOf(content: string): string | undefined {
  if (!content.startsWith('#!')) return undefined
  const end = content.indexOf('\n')
  return content.slice(2, end < 0 ? undefined : end).trim()
}

export function wouldRun(facts: { exists: boolean; executable: boolean; interpreter?: string | undefined; service?: string | undefined; masked: boolean }): boolean {
  return facts.exists && facts.executable && facts.interpreter !== undefined && facts.service !== undefined && !facts.masked
}
