import type { DependencyContainer } from '../di.js'
import { ReconcileService, type Decision } from '../intent/reconcile-service.js'

/** `twinsync adopt` and `twinsync discard`, and the TUI's keys for them: the same service. */
export function decide(container: DependencyContainer, decision: 'adopt' | 'discard', items: readonly string[]): Promise<Decision> {
  const service = container.resolve(ReconcileService)
  return decision === 'adopt' ? service.adopt(items) : service.discard(items)
}
