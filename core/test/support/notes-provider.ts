// A small applicable provider for service tests: the live file /etc/notes, kept in the twin as
// system/notes.json. Content containing "BAD" is refused by its content check.
import type { ApplicableProvider, Change, ContentValidator, PlanFollowUp, Provider } from '@twinsync/sdk'

export interface NotesState {
  text: string
}

export interface NotesProvider extends ApplicableProvider<NotesState>, ContentValidator, PlanFollowUp<NotesState> {
  /** The changes apply() was given, call by call. */
  applied: Change[][]
}

export function notesProvider(name = 'notes', overrides: Partial<ApplicableProvider<NotesState> & PlanFollowUp<NotesState>> = {}): NotesProvider {
  const path = `/etc/${name}`
  const twinPath = `system/${name}.json`
  const provider: NotesProvider = {
    name,
    version: '1.0.0',
    category: 'startup',
    description: `the ${path} file`,
    twinPaths: [twinPath],
    validatesPaths: [path],
    applied: [],
    validateContent: (_path, content) => (content.includes('BAD') ? ['the notes say BAD'] : []),
    detect: async () => ({ detected: true, diagnostics: [] }),
    async collect({ ctx }) {
      const text = (await ctx.host.readTextIfExists(path)) ?? ''
      return { state: { text }, documents: [{ path: twinPath, content: `${JSON.stringify({ text })}\n` }], diagnostics: [] }
    },
    async load({ twin }) {
      const raw = await twin.readText(twinPath)
      return { state: raw === undefined ? undefined : (JSON.parse(raw) as NotesState), diagnostics: [] }
    },
    diff({ desired, actual }) {
      if (desired.text === actual.text) return { changes: [], diagnostics: [] }
      const change: Change = {
        id: `${name}:replace:${path}`,
        provider: name,
        category: 'startup',
        operation: 'replace',
        resource: path,
        summary: `Replace ${path}`,
        risk: 'low',
        data: { action: 'write', path, text: desired.text },
      }
      return { changes: [change], diagnostics: [] }
    },
    followUps: async () => [],
    async apply({ changes, ctx, onResult }) {
      provider.applied.push(changes)
      const results = []
      for (const c of changes) {
        await ctx.host.writeFileAtomic(path, (c.data as { text: string }).text)
        const result = { id: c.id, status: 'applied' as const }
        onResult?.(result)
        results.push(result)
      }
      return { results, diagnostics: [] }
    },
    ...overrides,
  } as NotesProvider
  return provider
}

/** A fact provider (no load, no apply): system/uptime.json, from the machine's /etc/uptime. */
export function uptimeProvider(): Provider {
  return {
    name: 'uptime',
    version: '1.0.0',
    category: 'facts',
    description: 'how long the machine runs',
    twinPaths: ['system/uptime.json'],
    detect: async () => ({ detected: true, diagnostics: [] }),
    collect: async ({ ctx }) => ({ state: {}, documents: [{ path: 'system/uptime.json', content: `${JSON.stringify({ days: (await ctx.host.readTextIfExists('/etc/uptime'))?.trim() ?? '0' }, null, 2)}\n` }], diagnostics: [] }),
  }
}
