import { strict as assert } from 'node:assert'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES } from '@twinsync/sdk/errors'

/**
 * Every code the core and the SDK throw is in the SDK's registry (ERROR_CODES): `twinsync
 * describe` lists the codes a script may meet from the registry, and ApplyService's refusal of a
 * plan takes a code it does not know for PLAN_INVALID (plan-refusal.ts). Session 46 found
 * TWIN_INVALID, FORGET_UNFINISHED and PLUGIN_SDK_PACK_FAILED thrown and not registered. A
 * provider's own codes (FILES_…, a plugin's, CHANGE_INVALID) are its own and not scanned.
 */
const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
}

/** The codes written out in a constructor's first argument: `'CODE'`, or each side of `cond ? 'A' : 'B'`. */
function thrownCodes(text: string): string[] {
  return [...text.matchAll(/new TwinSyncError\(\s*([^,]*),/g)].flatMap((m) => [...(m[1] as string).matchAll(/'([A-Z][A-Z0-9_]*)'/g)].map((c) => c[1] as string))
}

describe('error codes: every one thrown is registered', () => {
  it('reads a code from `new TwinSyncError(CODE` and from both sides of a conditional first argument', () => {
    assert.deepEqual(thrownCodes("throw new TwinSyncError('A_B', 'x')\nnew TwinSyncError(\n  'C',\n  `y`)\nnew TwinSyncError(up ? 'D' : 'E', 'z')\nnew TwinSyncError(error.code, m)"), ['A_B', 'C', 'D', 'E'])
  })

  it('finds each code thrown in core/src and sdk/src in ERROR_CODES', () => {
    const missing: string[] = []
    let seen = 0
    for (const file of [...sources(join(repoRoot, 'core/src')), ...sources(join(repoRoot, 'sdk/src'))]) {
      for (const code of thrownCodes(readFileSync(file, 'utf8'))) {
        seen++
        if (!Object.hasOwn(ERROR_CODES, code)) missing.push(`${relative(repoRoot, file)}: ${code}`)
      }
    }
    assert.ok(seen > 100, `the scan found the throws (${seen})`)
    assert.deepEqual(missing, [])
  })
})
