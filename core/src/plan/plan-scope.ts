import type { Diagnostic, Plan } from '@twinsync/sdk'
import { TwinSyncError, isApplicable } from '@twinsync/sdk/light'
import { inject, injectable } from '../di.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { outsideScope } from './outside-scope.js'
import { RunTarget } from './run-target.js'
import { appendAll } from '../append-to.js'

/**
 * The one refusal of a plan whose change acts outside what its provider manages now (a files
 * path not in files.include, or ignored): PLAN_OUTSIDE_SCOPE, the whole plan, before anything is
 * locked, booted or written. The planner never makes such a change (outsideScope, the same rule),
 * so the plan is forged, or older than the configuration; the twin is untrusted, and so is a plan
 * that came from it. Apply (ApplyService) and rehearsal (RehearsalService) both ask it, so a
 * plan a rehearsal passes is never one apply then refuses.
 */
@injectable()
export class PlanScope {
  constructor(
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  private readonly line = (args: readonly string[]): string => this.target.line(args)

  /** `done`: what a refused run did not do, for its message ("applied", "rehearsed"). */
  async refuseOutsideScope(plan: Plan, done: 'applied' | 'rehearsed' = 'applied'): Promise<void> {
    const { claims } = await this.registry.load()
    const providers = new Map((await this.registry.select()).map((r) => r.provider).filter(isApplicable).map((p) => [p.name, p]))
    const found: Diagnostic[] = []
    for (const [name, provider] of providers) {
      const changes = plan.changes.filter((c) => c.provider === name)
      const outside = await outsideScope(provider, changes, this.contexts.for(provider, claims, { cache: 'twin' }), this.line, this.contexts.ownPaths(), this.contexts.forgottenPaths())
      if (!outside.ok) found.push(outside.diagnostic)
      else appendAll(found, outside.diagnostics)
    }
    if (found.length === 0) return
    throw new TwinSyncError(
      'PLAN_OUTSIDE_SCOPE',
      `Nothing was ${done}: the plan has ${found.length} change(s) outside what their provider manages: ${found.slice(0, 5).map((d) => d.summary).join('; ')}${found.length > 5 ? ` and ${found.length - 5} more` : ''}`,
      {
        nextStep: `Make a new plan (\`${this.line(['plan'])}\`): it leaves such changes out and says why. ${found[0]?.detail ?? ''}`.trim(),
        details: { outside: found },
      },
    )
  }
}
