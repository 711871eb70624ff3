import type { DependencyContainer } from '../di.js'
import { ReconcileService, type Decision } from '../intent/reconcile-service.js'

/** `twinsync adopt` and `twinsync discard`, and the TUI's keys for them: the same service. */
export function decide(container: DependencyContainer, decision: 'adopt' | 'discard', items: readonly string[]): Promise<Decision> {
  const service = container.resolve(ReconcileService)
  return decision === 'adopt' ? service.adopt(items) : service.discard(items)
}

export function renderDecision(d: Decision): string {
  const verb = d.decision === 'adopt' ? 'Adopted the machine\'s value of' : 'Discarded the pending intent of'
  const lines = [`${verb} ${d.items.length} item${d.items.length === 1 ? '' : 's'} (commit ${d.commit.slice(0, 12)}):`]
  lines.push(...d.items.map((i) => `  ${i.id}  ${i.summary}`))
  lines.push(d.intended === null ? 'Nothing is pending any more.' : 'Other items are still pending: `twinsync status` lists them.')
  return lines.join('\n')
}
