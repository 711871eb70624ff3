import type { Provider } from '@twinsync/sdk'
import { factProviders } from '../facts/index.js'

/**
 * The plugin packages that ship with TwinSync, loaded directly rather than through a hook.
 * Each import is spelled out so the CLI bundle (core/scripts/bundle.mjs) takes them in.
 */
const BUILTIN_PACKAGES: Record<string, () => Promise<{ providers?: Provider[] }>> = {
  '@twinsync/plugin-files': () => import('@twinsync/plugin-files'),
  '@twinsync/plugin-apt': () => import('@twinsync/plugin-apt'),
  '@twinsync/plugin-systemd': () => import('@twinsync/plugin-systemd'),
  '@twinsync/plugin-cron': () => import('@twinsync/plugin-cron'),
  '@twinsync/plugin-autostart': () => import('@twinsync/plugin-autostart'),
}

export async function builtinProviders(): Promise<Array<{ provider: Provider; source: string }>> {
  const loaded = await Promise.all(
    Object.entries(BUILTIN_PACKAGES).map(async ([name, load]) => ((await load()).providers ?? []).map((provider) => ({ provider, source: name }))),
  )
  return [...factProviders().map((provider) => ({ provider, source: '@twinsync/core' })), ...loaded.flat()]
}
