import Type from 'typebox'

/** Problems travel as data: a provider's warnings sit next to the change or file they concern. */
export const Diagnostic = Type.Object(
  {
    severity: Type.Union([Type.Literal('error'), Type.Literal('warning'), Type.Literal('info')]),
    code: Type.String(),
    summary: Type.String(),
    detail: Type.Optional(Type.String()),
    /** The machine path or resource the diagnostic concerns. */
    path: Type.Optional(Type.String()),
    provider: Type.Optional(Type.String()),
    /** The id of the plan change it concerns ("apt:install:hello"), when it concerns one. */
    change: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type Diagnostic = Type.Static<typeof Diagnostic>

export { errorDiagnostic, warningDiagnostic, infoDiagnostic, NO_LONGER_TRACKED, SECRET_CHANGED, UNHELD_DIFFERS, unheldOperation, type UnheldOperation, NEED_UNUSABLE, UNREADABLE_KEPT_SUFFIX, isKeptUnread, hasErrors, refusedChanges } from './diagnostic-codes.js'
