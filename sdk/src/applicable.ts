import type { ApplicableProvider, Provider } from './provider.js'

/** Whether a provider can change its domain: apart from provider.ts (its typebox schemas), so that light.ts gives it. */
export function isApplicable<S>(provider: Provider<S>): provider is ApplicableProvider<S> {
  const p = provider as Partial<ApplicableProvider<S>>
  return typeof p.load === 'function' && typeof p.diff === 'function' && typeof p.apply === 'function'
}
