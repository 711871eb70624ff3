import Type from 'typebox'
import { Diagnostic } from './diagnostic.js'
import { CATEGORIES, type Category as DomainCategory } from './domains.js'

/** What a change is about, as the plan summary groups it: one of the domains (domains.ts). */
export const Category = Type.Unsafe<DomainCategory>(Type.Union(CATEGORIES.map((c) => Type.Literal(c))))
export type Category = DomainCategory
export { CATEGORIES, SNAPSHOT_CATEGORIES, STATE_CATEGORIES } from './domains.js'

export const Risk = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')])
export type Risk = Type.Static<typeof Risk>

/**
 * One node of a plan: a single change to one resource. `data` is the provider's own payload,
 * everything it needs to carry the change out later without looking at the twin again.
 */
export const Change = Type.Object(
  {
    /** Stable within a plan, e.g. "files:replace:/etc/hosts". */
    id: Type.String({ minLength: 1 }),
    provider: Type.String({ minLength: 1 }),
    category: Category,
    /** A verb of the provider's: create, replace, delete, chmod, install, enable, restart… */
    operation: Type.String({ minLength: 1 }),
    /** What is changed: a path, a package name, a unit name. */
    resource: Type.String({ minLength: 1 }),
    /** One line a person reads in the summary. */
    summary: Type.String(),
    before: Type.Optional(Type.String()),
    after: Type.Optional(Type.String()),
    /** Unified diff for text files. */
    diff: Type.Optional(Type.String()),
    risk: Risk,
    /**
     * Why the change is high risk when it hands out root or changes whom the machine trusts (an
     * apt hook, a signing key, a sudo rule, authorized keys, setuid…): set by the planner's one
     * rule (core's trust-risk.ts), shown beside the change by both front ends.
     */
    riskReason: Type.Optional(Type.String()),
    /** Ids of changes (of any provider) that must succeed before this one. */
    requires: Type.Optional(Type.Array(Type.String())),
    /**
     * Ids of the changes this one is only there for (a stop and disable of a unit whose file the
     * plan deletes: the delete's). Leaving all of them out of a plan leaves this one out too
     * (core's excludeChanges), as leaving out a change leaves out those that `require` it.
     */
    madeFor: Type.Optional(Type.Array(Type.String())),
    /**
     * Machine paths this change needs in place first: a file ("/etc/apt/sources.list") or a
     * folder ending in "/" ("/etc/yum.repos.d/"). Every change of the plan to such a path (a
     * repository file, a signing key) is ordered before this one, whoever makes it.
     */
    needs: Type.Optional(Type.Array(Type.String({ minLength: 2, pattern: '^/' }))),
    /**
     * True when the change takes something away (uninstall, erase, delete, disable): removals
     * of packages run after the files and services that may still use them.
     */
    removal: Type.Optional(Type.Boolean()),
    /** Hash of the live state of `resource` when the plan was made; apply refuses if it moved. */
    liveFingerprint: Type.Optional(Type.String()),
    data: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
)
export type Change = Type.Static<typeof Change>

export const ChangeStatus = Type.Union([
  Type.Literal('applied'),
  Type.Literal('unchanged'),
  Type.Literal('failed'),
  Type.Literal('skipped'),
])
export type ChangeStatus = Type.Static<typeof ChangeStatus>

export const ChangeResult = Type.Object(
  {
    id: Type.String(),
    status: ChangeStatus,
    message: Type.Optional(Type.String()),
    /** The last lines a command printed, for the journal. */
    outputTail: Type.Optional(Type.String()),
    diagnostics: Type.Optional(Type.Array(Diagnostic)),
  },
  { additionalProperties: false },
)
export type ChangeResult = Type.Static<typeof ChangeResult>
