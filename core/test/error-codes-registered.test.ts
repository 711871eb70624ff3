import { strict as assert } from 'node:assert'
import { readdirSync, readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES } from '@twinsync/sdk/errors'
import { APT_CODES } from '../../plugins/apt/src/codes.js'
import { AUTOSTART_CODES } from '../../plugins/autostart/src/codes.js'
import { CRON_CODES } from '../../plugins/cron/src/codes.js'
import { FILES_CODES } from '../../plugins/files/src/codes.js'
import { SYSTEMD_CODES } from '../../plugins/systemd/src/codes.js'
import { DNF_CODES } from '../../examples/twinsync-plugin-dnf/src/codes.js'

/**
 * Every code the core, the SDK and the bundled plugins put where a person or a script meets it — a
 * thrown TwinSyncError, a diagnostic (error, warning, note) of a plan, a status, a snapshot, an
 * apply's results and messages — is registered with what it means and the next step: the core's
 * and the SDK's in the SDK's table (ERROR_CODES, which `twinsync describe` lists), a plugin's own
 * in its plugin's table (src/codes.ts), which starts each with the provider's name. ApplyService's
 * refusal of a plan takes a code ERROR_CODES does not know for PLAN_INVALID (plan-refusal.ts), so
 * a plugin's code registered in the SDK's table would change what apply names. Session 46 found
 * TWIN_INVALID, FORGET_UNFINISHED and PLUGIN_SDK_PACK_FAILED thrown and not registered; session 47
 * CONFIG_RESTORED, CONFIG_CHECK_TIMEOUT and many warnings in results, and the plugins' codes
 * (CHANGE_INVALID, FILES_…) declared nowhere. This test reads the built SDK: build first.
 */
const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
}

const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/
/** errno names (`code: 'ENOENT'` on an Error made to look like fs's) are the system's, not TwinSync's. */
const ERRNO = new Set(Object.keys(constants.errno))
/**
 * Codes in a code's place that no person or script meets as one: files' collect marks a path it
 * did not read as another user's home with NOT_ROOT beside errno names (EACCES), and reports it
 * as FILES_UNREADABLE_KEPT.
 */
const NOT_CODES = new Set(['NOT_ROOT'])

/** `const NAME = 'CODE'` and `const NAME = { a: 'CODE', … } as const`: a code written once and used by its name. */
function namedCodes(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const m of text.matchAll(/\bconst ([A-Z][A-Z0-9_]*)\s*=\s*'([A-Z][A-Z0-9_]*)'/g)) out.set(m[1] as string, [m[2] as string])
  for (const m of text.matchAll(/\bconst ([A-Z][A-Z0-9_]*)\s*=\s*\{([^}]*)\}\s*as const/g)) {
    const values = [...(m[2] as string).matchAll(/:\s*'([A-Z][A-Z0-9_]*)'/g)].map((v) => v[1] as string)
    if (values.length > 0) out.set(m[1] as string, values)
  }
  return out
}

/** The expression from `at`: up to the first comma, semicolon, line end or closing bracket outside brackets and strings. */
function expressionAt(text: string, at: number): string {
  let depth = 0
  let i = at
  for (; i < text.length; i++) {
    const c = text[i] as string
    if (c === "'" || c === '`' || c === '"') {
      const end = text.indexOf(c, i + 1)
      if (end < 0) break
      i = end
    } else if (c === '(' || c === '[' || c === '{') depth++
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) break
      depth--
    } else if ((c === ',' || c === ';' || c === '\n') && depth === 0) break
  }
  return text.slice(at, i)
}

/**
 * The codes written in a code's place: the first argument of `new TwinSyncError(` and of
 * `errorDiagnostic(`, `warningDiagnostic(`, `infoDiagnostic(`; a `code:` or `code =` (a result's,
 * a warning's, a diagnostic written out, `kept: { code }`); the code of a failed result made by a
 * plugin's `refuse(change, CODE`; a code printed as `warning: [CODE]`. Each side of a conditional,
 * a `??`, and a name of a code (`NEEDS_ROOT`, `UNHELD_DIFFERS[op]`) resolved through `named`.
 */
function emittedCodes(text: string, named: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = []
  const starts = [
    ...text.matchAll(/\bnew TwinSyncError\(\s*/g),
    ...text.matchAll(/\b(?:error|warning|info)Diagnostic\(\s*/g),
    ...text.matchAll(/(?<![\w.])code\??\s*[:=]\s*(?!=)/g),
    ...text.matchAll(/\brefuse\(\s*\w+,\s*/g),
  ]
  for (const m of starts) {
    const expression = expressionAt(text, (m.index as number) + m[0].length)
    for (const literal of expression.matchAll(/'([A-Z][A-Z0-9_]*)'/g)) out.push(literal[1] as string)
    for (const name of expression.matchAll(/(?<![\w.'])([A-Z][A-Z0-9_]{2,})(?![\w'])/g)) out.push(...(named.get(name[1] as string) ?? []))
  }
  for (const m of text.matchAll(/\b(?:warning|error): \[([A-Z][A-Z0-9_]*)\]/g)) out.push(m[1] as string)
  return out.filter((c) => CODE.test(c) && !ERRNO.has(c) && !NOT_CODES.has(c))
}

/** The bundled plugins, and the example a third-party plugin starts from (docs/plugin-authoring.md says how it names its codes). */
const PLUGINS: Record<string, { prefix: string; codes: Readonly<Record<string, string>>; unprefixed?: string[] }> = {
  'plugins/apt': { prefix: 'APT_', codes: APT_CODES },
  'plugins/autostart': { prefix: 'AUTOSTART_', codes: AUTOSTART_CODES, unprefixed: ['RC_LOCAL_MODE_ADJUSTED'] },
  'plugins/cron': { prefix: 'CRON_', codes: CRON_CODES },
  'plugins/files': { prefix: 'FILES_', codes: FILES_CODES },
  'plugins/systemd': { prefix: 'SYSTEMD_', codes: SYSTEMD_CODES },
  'examples/twinsync-plugin-dnf': { prefix: 'DNF_', codes: DNF_CODES },
}

function scan(folders: readonly string[]): Array<{ file: string; code: string }> {
  const files = folders.flatMap((f) => sources(join(repoRoot, f)))
  const named = new Map<string, string[]>()
  for (const dir of ['sdk/src', ...folders]) for (const file of sources(join(repoRoot, dir))) for (const [k, v] of namedCodes(readFileSync(file, 'utf8'))) named.set(k, v)
  return files.flatMap((file) => emittedCodes(readFileSync(file, 'utf8'), named).map((code) => ({ file: relative(repoRoot, file), code })))
}

describe('error codes: every one a person or a script meets is registered', () => {
  it('reads a code from each place one is written, both sides of a conditional, and a name of one', () => {
    const text = [
      "throw new TwinSyncError('A_B', 'x')",
      "new TwinSyncError(\n  'C',\n  `y`)",
      "new TwinSyncError(up ? 'D' : 'E', 'z')",
      'new TwinSyncError(error.code, m)',
      "warningDiagnostic('F', `s, ${x}`)",
      'infoDiagnostic(NAMED, s)',
      "errorDiagnostic(link ? 'G' : UNHELD[op], s)",
      "return { severity: 'error', code: 'H', summary: s }",
      "const code = isTwinSyncError(e) ? e.code : 'I'",
      "kept: { code: e.kept?.code ?? NAMED, reason }",
      "return refuse(change, 'J', `m`, provider)",
      "lines.push(`warning: [K] ${text}`)",
      "Object.assign(new Error('x'), { code: 'ENOENT' })",
      "const message = 'NOT_A_CODE'",
      "env: { GIT_DIR: dir }",
    ].join('\n')
    const named = new Map([...namedCodes("export const NAMED = 'L'\nconst UNHELD = { create: 'M', delete: 'N' } as const")])
    assert.deepEqual(emittedCodes(text, named).sort(), ['A_B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'L', 'M', 'N'])
  })

  it('finds each code of core/src and sdk/src in ERROR_CODES', () => {
    const found = scan(['core/src', 'sdk/src'])
    assert.ok(found.length > 250, `the scan found the codes (${found.length})`)
    for (const code of ['CONFIG_RESTORED', 'CONFIG_CHECK_TIMEOUT', 'SECRET_REDACTED', 'CHANGE_INVALID', 'TWIN_EDIT_KEPT']) assert.ok(found.some((f) => f.code === code), `the scan finds ${code}`)
    assert.deepEqual(found.filter((f) => !Object.hasOwn(ERROR_CODES, f.code)).map((f) => `${f.file}: ${f.code}`), [])
  })

  it('finds each code of ERROR_CODES emitted somewhere (core, SDK, a bundled plugin)', () => {
    const emitted = new Set(scan(['core/src', 'sdk/src', ...Object.keys(PLUGINS).filter((p) => p.startsWith('plugins/')).map((p) => `${p}/src`)]).map((f) => f.code))
    assert.deepEqual(Object.keys(ERROR_CODES).filter((c) => !emitted.has(c)), [])
  })

  for (const [plugin, { prefix, codes, unprefixed = [] }] of Object.entries(PLUGINS)) {
    it(`finds each code of ${plugin} in ERROR_CODES or its own table, which holds its codes alone, each starting with ${prefix}`, () => {
      const found = scan([`${plugin}/src`])
      assert.ok(found.length > 5, `the scan found the codes (${found.length})`)
      assert.deepEqual(found.filter((f) => !Object.hasOwn(ERROR_CODES, f.code) && !Object.hasOwn(codes, f.code)).map((f) => `${f.file}: ${f.code}`), [])
      const emitted = new Set(found.map((f) => f.code))
      assert.deepEqual(Object.keys(codes).filter((c) => !emitted.has(c)), [], 'each code of the table is one the plugin emits')
      assert.deepEqual(Object.keys(codes).filter((c) => Object.hasOwn(ERROR_CODES, c)), [], 'no code in both tables')
      assert.deepEqual(Object.keys(codes).filter((c) => !c.startsWith(prefix) && !unprefixed.includes(c)), [])
      for (const [code, description] of Object.entries(codes)) assert.ok(description.length > 40, `${code} says what it means and the next step`)
    })
  }
})
