import type { Provider } from '@twinsync/sdk'
import { HardwareFacts } from './hardware-facts.js'
import { LogFacts } from './log-facts.js'
import { NetworkFacts } from './network-facts.js'
import { OsFacts } from './os-facts.js'
import { ProcessFacts } from './process-facts.js'

export function factProviders(): Provider[] {
  return [new OsFacts(), new HardwareFacts(), new NetworkFacts(), new ProcessFacts(), new LogFacts()]
}
