import type { Category, Plan } from '@twinsync/sdk'
import { CATEGORIES } from '@twinsync/sdk'

export interface CategorySummary {
  category: Category
  count: number
  highRisk: number
  operations: Record<string, number>
}

/** Counts by category, in the spec's order: files, packages, services, startup, commands. */
export function summarizePlan(plan: Pick<Plan, 'changes'>): CategorySummary[] {
  return CATEGORIES.map((category) => {
    const changes = plan.changes.filter((c) => c.category === category)
    const operations: Record<string, number> = {}
    for (const c of changes) operations[c.operation] = (operations[c.operation] ?? 0) + 1
    return { category, count: changes.length, highRisk: changes.filter((c) => c.risk === 'high').length, operations }
  }).filter((s) => s.count > 0)
}
