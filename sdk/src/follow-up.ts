import type { Change } from './change.js'
import type { Diagnostic } from './diagnostic.js'
import type { ConfigCheck } from './config-check.js'
import type { ProviderContext } from './context.js'
import type { Provider } from './provider.js'

export interface FollowUpRequest<State = unknown> {
  /** Every change of the plan so far, of every provider. */
  changes: readonly Change[]
  /** This provider's live state, as collected for the plan. */
  actual: State
  ctx: ProviderContext
  /** Every loaded provider's configuration checks: which units read which files. */
  configChecks?: readonly ConfigCheck[]
}

/**
 * An optional capability: changes a provider proposes because of other providers' changes
 * (systemd proposes restarting a running service whose package's configuration file the plan
 * rewrites). Each follow-up is a change of its own, which a person can leave out.
 */
export interface PlanFollowUp<State = unknown> {
  followUps(request: FollowUpRequest<State>): Promise<Change[]>
}

export function hasFollowUps<S>(provider: Provider<S>): provider is Provider<S> & PlanFollowUp<S> {
  return typeof (provider as Partial<PlanFollowUp<S>>).followUps === 'function'
}

/**
 * An optional capability: what a provider has to say about other providers' changes without
 * changing them: plan diagnostics (cron: a script in /etc/cron.daily that run-parts would skip, a
 * /etc/cron.d line for a user the machine does not have). A warning is shown with the plan; an
 * error refuses it.
 */
export interface PlanReview<State = unknown> {
  reviewPlan(request: FollowUpRequest<State>): Promise<Diagnostic[]>
}

export function hasPlanReview<S>(provider: Provider<S>): provider is Provider<S> & PlanReview<S> {
  return typeof (provider as Partial<PlanReview<S>>).reviewPlan === 'function'
}
