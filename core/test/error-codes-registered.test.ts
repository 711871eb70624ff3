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
 * provider's own codes (FILES_…, a plugin's) are its own and not scanned.
 */
const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
}

describe('error codes: every one thrown is registered', () => {
  it('finds each `new TwinSyncError(CODE` of core/src and sdk/src in ERROR_CODES', () => {
    const missing: string[] = []
    let seen = 0
    for (const file of [...sources(join(repoRoot, 'core/src')), ...sources(join(repoRoot, 'sdk/src'))]) {
      for (const match of readFileSync(file, 'utf8').matchAll(/new TwinSyncError\(\s*'([A-Z][A-Z0-9_]*)'/g)) {
        seen++
        const code = match[1] as string
        if (!Object.hasOwn(ERROR_CODES, code)) missing.push(`${relative(repoRoot, file)}: ${code}`)
      }
    }
    assert.ok(seen > 100, `the scan found the throws (${seen})`)
    assert.deepEqual(missing, [])
  })
})
