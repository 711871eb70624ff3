import type { DependencyContainer } from '../di.js'
import { Tokens, resolveToken } from '../tokens.js'
import { machineIdentity } from '../twin/machine-identity.js'
import { TwinRepository } from '../twin/twin-repository.js'

export interface InitResult {
  repo: string
  created: boolean
  commit: string | undefined
}

export async function initTwin(container: DependencyContainer): Promise<InitResult> {
  const twin = container.resolve(TwinRepository)
  const info = await machineIdentity(resolveToken(container, Tokens.Host))
  const { created, commit } = await twin.init(info)
  return { repo: twin.dir, created, commit }
}
