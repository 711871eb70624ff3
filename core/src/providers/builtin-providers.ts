import type { Provider } from '@twinsync/sdk'
import { factProviders } from '../facts/index.js'

/** The plugin packages that ship with TwinSync, loaded directly rather than through a hook. */
const BUILTIN_PACKAGES = [
  '@twinsync/plugin-files',
  '@twinsync/plugin-apt',
  '@twinsync/plugin-systemd',
  '@twinsync/plugin-cron',
  '@twinsync/plugin-autostart',
] as const

export async function builtinProviders(): Promise<Array<{ provider: Provider; source: string }>> {
  const loaded = await Promise.all(
    BUILTIN_PACKAGES.map(async (name) => {
      const mod = (await import(name)) as { providers?: Provider[] }
      return (mod.providers ?? []).map((provider) => ({ provider, source: name }))
    }),
  )
  return [...factProviders().map((provider) => ({ provider, source: '@twinsync/core' })), ...loaded.flat()]
}
