import type { ProvidersHookOptions, ProvidersHookResult } from '@twinsync/sdk'
import { DnfProvider } from './provider.js'

/** TwinSync calls this `twinsync:providers` hook (package.json, "oclif.hooks") at start-up. */
export default async function providers(_options: ProvidersHookOptions): Promise<ProvidersHookResult> {
  return { providers: [new DnfProvider()] }
}
