import type { DependencyContainer } from '../di.js'
import { readTokenFromStdin } from '../remote/credentials.js'
import { RemoteService } from '../remote/remote-service.js'

export function remoteService(container: DependencyContainer): RemoteService {
  return container.resolve(RemoteService)
}

export async function tokenFromFlags(flags: { 'token-stdin': boolean }): Promise<string | undefined> {
  return flags['token-stdin'] ? readTokenFromStdin() : undefined
}
