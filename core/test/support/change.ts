import type { Change } from '@twinsync/sdk'

/** A change for graph tests: the provider is the id's first part, the id is its resource and summary. */
export const change = (id: string, category: Change['category'], operation: string, extra: Partial<Change> = {}): Change => ({
  id,
  provider: id.split(':')[0] as string,
  category,
  operation,
  resource: id,
  summary: id,
  risk: 'low',
  ...extra,
})
