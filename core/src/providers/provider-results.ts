/**
 * What a provider's call returned, looked at before TwinSync reads it (Session 42). A provider is
 * plugin code: a collect() that returned `{}`, a document `null` or of content 42, a diagnostic
 * that was a bare string, a detect() of `null`, a diff() or apply() without its lists, each was
 * read as if whole and ended the run as "internal error ... a bug in TwinSync" (exit 1): every
 * snapshot, plan and status of the machine stopped for one plugin's slip, its name nowhere.
 * Now callProvider (the one guard around every call into a provider) hands each answer of these
 * five calls to `checkedResult`, whose throw it makes PROVIDER_FAILED naming the provider, the
 * call and what is wrong; the other providers go on, as for a throw. Other calls pass as given. A hand check (no typebox: a plan and a snapshot of an
 * unchanged machine load none), of what TwinSync reads, not every field of the SDK's types.
 */
export function checkedResult<T>(call: string, value: T): T {
  if (!CHECKED.has(call)) return value
  const problem = problemOf(call, value)
  if (problem !== undefined) throw new Error(`it returned ${problem}, not the ${call}() result the SDK describes`)
  return value
}

const CHECKED = new Set(['detect', 'collect', 'load', 'diff', 'apply'])

type Checked = Record<string, unknown>

const isObject = (v: unknown): v is Checked => typeof v === 'object' && v !== null && !Array.isArray(v)
const optionalString = (v: unknown) => v === undefined || typeof v === 'string'
const SEVERITIES = new Set(['error', 'warning', 'info'])

function problemOf(call: string, value: unknown): string | undefined {
  if (!isObject(value)) return `${shown(value)}`
  const diagnostics = value.diagnostics
  // A detect() or apply() without diagnostics is read as none; the others' are read as given.
  if (diagnostics === undefined ? call !== 'detect' && call !== 'apply' : !Array.isArray(diagnostics)) return diagnostics === undefined ? 'no diagnostics list' : `diagnostics that are ${shown(diagnostics)}, not a list`
  const badDiagnostic = (Array.isArray(diagnostics) ? diagnostics : []).findIndex((d) => !isDiagnostic(d))
  if (badDiagnostic >= 0) return `diagnostics whose item ${badDiagnostic + 1} is not a diagnostic: ${shown((diagnostics as unknown[])[badDiagnostic])}`
  if (call === 'detect' && typeof value.detected !== 'boolean') return `detected: ${shown(value.detected)}`
  if (call === 'collect') return listProblem('documents', value.documents, isDocument)
  if (call === 'diff') return listProblem('changes', value.changes, isChange)
  if (call === 'apply') return listProblem('results', value.results, isChangeResult)
  return undefined
}

function listProblem(name: string, list: unknown, valid: (item: unknown) => boolean): string | undefined {
  if (!Array.isArray(list)) return list === undefined ? `no ${name} list` : `${name} that are ${shown(list)}, not a list`
  const bad = list.findIndex((item) => !valid(item))
  return bad < 0 ? undefined : `${name} whose item ${bad + 1} is ${shown(list[bad])}`
}

function isDiagnostic(d: unknown): boolean {
  return isObject(d) && SEVERITIES.has(d.severity as string) && typeof d.code === 'string' && typeof d.summary === 'string' && optionalString(d.detail) && optionalString(d.path) && optionalString(d.provider) && optionalString(d.change)
}

function isDocument(d: unknown): boolean {
  return isObject(d) && typeof d.path === 'string' && (typeof d.content === 'string' || d.content instanceof Uint8Array) && (d.executable === undefined || typeof d.executable === 'boolean')
}

function isChange(c: unknown): boolean {
  return isObject(c) && ['id', 'provider', 'category', 'operation', 'resource'].every((k) => typeof c[k] === 'string' && c[k] !== '') && typeof c.summary === 'string'
}

function isChangeResult(r: unknown): boolean {
  return isObject(r) && typeof r.id === 'string' && typeof r.status === 'string' && optionalString(r.message) && (r.diagnostics === undefined || (Array.isArray(r.diagnostics) && r.diagnostics.every(isDiagnostic)))
}

/** A value as said in the message: its kind, and JSON cut short (a provider's value may be big). */
function shown(v: unknown): string {
  if (v === undefined) return 'missing'
  if (v === null) return 'null'
  if (v instanceof Uint8Array) return 'bytes'
  let text: string
  try {
    text = JSON.stringify(v) ?? typeof v
  } catch {
    text = typeof v
  }
  return `${Array.isArray(v) ? 'a list' : typeof v} ${text.length > 60 ? `${text.slice(0, 60)}...` : text}`
}
