// core/scripts/bundle.mjs's indexParts: a name of the SDK's index that sdk.cjs does not hold is
// read from the one module that exports it, loaded through sdk-lib.cjs as its own root, not from
// the whole index (every SDK module and typebox's): what a third-party plugin's few names cost.
// Run in a fresh node: a test process may have loaded the whole index already.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SDK_BUNDLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sdk', 'bundle')

/** What a fresh node read: each object sdk-lib.cjs's `load` gave (its names), and the checks' answers. */
function readInFreshNode(names: string[]): { loads: string[][]; kinds: string[]; typeIsTypebox: boolean } {
  const script = `
    const lib = require(${JSON.stringify(join(SDK_BUNDLE, 'sdk-lib.cjs'))})
    const loads = []
    const load = lib.load
    lib.load = (n) => { const m = load(n); loads.push(Object.keys(m)); return m }
    const sdk = require(${JSON.stringify(join(SDK_BUNDLE, 'sdk.cjs'))})
    const kinds = ${JSON.stringify(names)}.map((name) => typeof sdk.index()[name])
    const typeIsTypebox = sdk.index().Type === sdk.typebox().Type
    process.stdout.write(JSON.stringify({ loads, kinds, typeIsTypebox }))
  `
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { loads: string[][]; kinds: string[]; typeIsTypebox: boolean }
}

describe("the SDK's index names loaded from their own module (core/scripts/bundle.mjs, indexParts)", () => {
  it("reads the dnf example's names without running the whole index, the same values", () => {
    // The dnf example plugin's names that the light entry and SDK_HELD do not give.
    const { loads, kinds, typeIsTypebox } = readInFreshNode(['fingerprint', 'warningDiagnostic', 'infoDiagnostic', 'schemaProblem'])
    assert.deepEqual(kinds, ['function', 'function', 'function', 'function'])
    assert.ok(loads.length > 0, 'sdk-lib.cjs was never asked for a module')
    // The whole index holds both the SDK's fingerprint and typebox's Type; no part does.
    assert.deepEqual(
      loads.filter((names) => names.includes('fingerprint') && names.includes('Type')),
      [],
      `a name was read from the whole index: ${loads.map((names) => names.length).join(', ')} names loaded`,
    )
    assert.equal(typeIsTypebox, true)
  })
})
