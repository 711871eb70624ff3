import { Value } from 'typebox/value'
import type { ProviderContext } from './context.js'
import { CATEGORIES } from './change.js'
import { MemoryTwin } from './memory-twin.js'
import { isApplicable, type Provider } from './provider.js'
import { machinePathOf, type TwinDocument } from './twin-document.js'

/**
 * The conformance kit: the promises every provider makes to the host, checked against a real
 * target. A plugin author calls it from their own tests with a context over a test root:
 *
 *     const problems = await checkConformance(provider, makeContext(rootDir))
 *     assert.deepEqual(problems, [])
 *
 * It returns the broken promises as sentences; an empty list means the provider conforms.
 */
export async function checkConformance(provider: Provider, ctx: ProviderContext): Promise<string[]> {
  const problems: string[] = []
  if (!/^[a-z][a-z0-9-]*$/.test(provider.name)) problems.push(`name "${provider.name}" must be lower case letters, digits and dashes`)
  if (!/^\d+\.\d+\.\d+/.test(provider.version)) problems.push(`version "${provider.version}" is not a semantic version`)
  if (!CATEGORIES.includes(provider.category)) problems.push(`category "${provider.category}" is not one of ${CATEGORIES.join(', ')}`)
  for (const claim of provider.claims ?? []) ctx.claims.claim(provider.name, claim)

  const detected = await provider.detect({ ctx })
  if (typeof detected.detected !== 'boolean' || !Array.isArray(detected.diagnostics)) {
    problems.push('detect() must return { detected: boolean, diagnostics: [] }')
  }
  if (!detected.detected) return problems

  const first = await provider.collect({ ctx })
  const second = await provider.collect({ ctx })
  if (!sameDocuments(first.documents, second.documents)) {
    problems.push('collect() is not deterministic: two collects of the same target gave different documents')
  }
  if (provider.stateSchema !== undefined && !Value.Check(provider.stateSchema, first.state)) {
    const error = [...Value.Errors(provider.stateSchema, first.state)][0]
    problems.push(`collect() state does not match stateSchema at ${error?.instancePath || '/'}: ${error?.message}`)
  }
  for (const doc of first.documents) {
    const problem = documentProblem(provider, ctx, doc)
    if (problem !== undefined) problems.push(problem)
  }

  if (isApplicable(provider)) {
    const loaded = await provider.load({ ctx, twin: new MemoryTwin(first.documents) })
    if (loaded.state === undefined) {
      problems.push('load() found no state in the documents collect() just wrote')
    } else {
      const diff = provider.diff({ desired: loaded.state, actual: first.state, ctx })
      if (diff.changes.length > 0) {
        problems.push(`diff(load(collect()), collect()) is not empty: ${diff.changes.map((c) => c.id).join(', ')}`)
      }
    }
  }
  return problems
}

function documentProblem(provider: Provider, ctx: ProviderContext, doc: TwinDocument): string | undefined {
  if (doc.path.split('/').some((p) => p === '..' || p === '.' || p === '') || doc.path.startsWith('/')) {
    return `document path "${doc.path}" is not a clean relative path`
  }
  const machinePath = machinePathOf(doc.path)
  if (machinePath !== undefined) {
    const owner = ctx.claims.ownerOf(machinePath)
    return owner === provider.name ? undefined : `document ${doc.path} mirrors ${machinePath}, which belongs to ${owner}`
  }
  const owned = provider.twinPaths.some((p) => (p.endsWith('/') ? doc.path.startsWith(p) : doc.path === p))
  return owned ? undefined : `document ${doc.path} is outside the provider's twinPaths`
}

function sameDocuments(a: readonly TwinDocument[], b: readonly TwinDocument[]): boolean {
  if (a.length !== b.length) return false
  const key = (d: TwinDocument) => d.path
  const sortedB = new Map(b.map((d) => [key(d), d]))
  return a.every((d) => {
    const other = sortedB.get(key(d))
    return other !== undefined && Boolean(other.executable) === Boolean(d.executable) && bytesEqual(d.content, other.content)
  })
}

function bytesEqual(x: string | Uint8Array, y: string | Uint8Array): boolean {
  const bx = typeof x === 'string' ? Buffer.from(x) : Buffer.from(x)
  const by = typeof y === 'string' ? Buffer.from(y) : Buffer.from(y)
  return bx.equals(by)
}
