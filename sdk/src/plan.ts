import Type from 'typebox'
import { Change } from './change.js'
import { Diagnostic } from './diagnostic.js'
import { PLAN_FORMAT_VERSION } from './plan-format.js'

export { PLAN_FORMAT_VERSION } from './plan-format.js'

export const PlanEdge = Type.Object(
  {
    from: Type.String(),
    to: Type.String(),
    /** Why `from` must come before `to`, for a person reading the plan. */
    reason: Type.String(),
    /**
     * Only orders: a `from` that failed does not hold `to` back (a `from` that was itself held
     * back, skipped, still does). Absent: `to` runs only after `from` succeeded. The planner sets
     * it on the stage edges from the files to the services, whose changes declare the files they
     * need (`requires`); see core/src/plan/ordering-rules.ts.
     */
    orderOnly: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
)
export type PlanEdge = Type.Static<typeof PlanEdge>

/** A plan is data: it can be printed, saved, reviewed and applied later against its basis. */
export const Plan = Type.Object(
  {
    formatVersion: Type.Literal(PLAN_FORMAT_VERSION),
    createdAt: Type.String(),
    basis: Type.Object(
      {
        /** The twin commit the desired state was read from; null for an uncommitted twin. */
        twinCommit: Type.Union([Type.String(), Type.Null()]),
        /**
         * An edited working twin (twinCommit null), as a git tree: what a plan to apply later
         * (`plan --out`, the control panel's) was read from, so that apply can tell a change the
         * machine has since made from one the twin no longer asks for.
         */
        twinTree: Type.Optional(Type.String({ pattern: '^[0-9a-f]{40}([0-9a-f]{24})?$' })),
        root: Type.String(),
        /** Live fingerprint of every touched resource, keyed by change id. */
        fingerprints: Type.Record(Type.String(), Type.String()),
      },
      { additionalProperties: false },
    ),
    changes: Type.Array(Change),
    edges: Type.Array(PlanEdge),
    diagnostics: Type.Array(Diagnostic),
  },
  { additionalProperties: false },
)
export type Plan = Type.Static<typeof Plan>
