// Render the panel with fake services and drive it with keys, the way ink-testing-library allows.
import { render } from 'ink-testing-library'
import { countPhrase } from '../../src/vocabulary.js'
import type { Change, Plan } from '@twinsync/sdk'
import { PLAN_FORMAT_VERSION } from '@twinsync/sdk'
import type { HistoryEntry } from '../../src/history/history-service.js'
import { buildPlanGraph } from '../../src/plan/plan-graph.js'
import { App } from '../../src/tui/app.js'
import { busyMark, settleBusy } from '../../src/tui/busy.js'
import type { Route } from '../../src/tui/navigation.js'
import type { TuiServices } from '../../src/tui/services.js'
import { twinsyncLine } from '../../src/plan/command-text.js'

export const KEYS = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  enter: '\r',
  escape: '\x1b',
  space: ' ',
} as const

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface Panel {
  frame(): string
  /** Every frame rendered so far, oldest first. */
  frames(): string[]
  /** One key, then a moment for React to render. */
  press(key: string): Promise<void>
  /** Keys written one after another in the same tick, as a fast typist or a loaded machine delivers them. */
  burst(...keys: string[]): Promise<void>
  /** Poll the frame until it contains text (or matches); fails with the last frame. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>
  unmount(): void
  /** Unmount, then wait for what the panel started (busy.ts), as runTui does before it exits: for a panel over a real twin, which its checks write into. */
  close(): Promise<void>
}

export function openPanel(services: TuiServices, initial?: Route[]): Panel {
  const mark = busyMark()
  const r = render(<App services={services} {...(initial === undefined ? {} : { initial })} />)
  const frame = () => r.lastFrame() ?? ''
  return {
    frame,
    frames: () => [...r.frames],
    async press(key) {
      await sleep(30)
      r.stdin.write(key)
      await sleep(30)
    },
    async burst(...keys) {
      await sleep(30)
      for (const key of keys) r.stdin.write(key)
      await sleep(30)
    },
    async waitFor(pattern, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const f = frame()
        if (typeof pattern === 'string' ? f.includes(pattern) : pattern.test(f)) return f
        if (Date.now() > deadline) throw new Error(`${String(pattern)} did not appear. Frame:\n${f}`)
        await sleep(15)
      }
    },
    unmount: () => r.unmount(),
    async close() {
      r.unmount()
      await settleBusy(mark)
    },
  }
}

export const change = (id: string, category: Change['category'], operation: string, extra: Partial<Change> = {}): Change => ({
  id,
  provider: id.split(':')[0] as string,
  category,
  operation,
  resource: id.split(':').slice(2).join(':') || id,
  summary: `${operation} ${id.split(':').slice(2).join(':')}`,
  risk: 'low',
  ...extra,
})

export function planOf(changes: Change[]): Plan {
  const graph = buildPlanGraph(changes)
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: '2026-11-23T12:00:00.000Z',
    basis: { twinCommit: 'a'.repeat(40), root: '/', fingerprints: Object.fromEntries(changes.map((c) => [c.id, `fp-${c.id}`])) },
    changes: graph.changes,
    edges: graph.edges,
    diagnostics: [],
  }
}

export const entry = (commit: string, message: string, kind: HistoryEntry['kind'], extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  commit: commit.padEnd(40, '0'),
  parent: null,
  date: '2026-11-23T12:00:00+00:00',
  message,
  kind,
  labels: [],
  counts: {},
  counted: Object.entries(extra.counts ?? {}).map(([d, n]) => countPhrase(d, n ?? 0)).join(', ') || 'no changes',
  ...extra,
})

/** Services that answer at once with small fixed data; tests override what they look at. */
export function fakeServices(overrides: Partial<TuiServices> = {}): TuiServices {
  return {
    location: () => ({ dir: '/var/lib/twinsync/twin', source: 'default' }),
    line: (args) => twinsyncLine(args, { root: '/', repo: '/var/lib/twinsync/twin' }),
    checkTwin: async () => ({ dir: '/var/lib/twinsync/twin', source: 'default', ok: true }),
    initTwin: async () => ({ repo: '/var/lib/twinsync/twin', created: true, commit: undefined }),
    lastSnapshot: async () => entry('1234567abc', 'TwinSync snapshot 2026-11-23T12:00:00Z', 'snapshot'),
    drift: async () => ({ drift: true, changes: 2, pending: 0 }),
    providers: async () => ({ providers: [], diagnostics: [] }),
    snapshot: async () => {
      throw new Error('snapshot not faked')
    },
    plan: async () => planOf([]),
    apply: async () => {
      throw new Error('apply not faked')
    },
    decide: async () => {
      throw new Error('decide not faked')
    },
    history: async () => [],
    show: async () => {
      throw new Error('show not faked')
    },
    loadSettings: async () => ({
      path: '/etc/twinsync/config.yaml',
      exists: false,
      values: { include: undefined, ignore: [], limits: {} },
      defaultInclude: ['/etc', '~/.config'],
      defaultLimits: { maxFileSize: 1048576, logLines: 200, logBytes: 65536, topProcesses: 15 },
    }),
    saveSettings: async () => ({ path: '/etc/twinsync/config.yaml' }),
    checkTwinPlace: async () => {
      throw new Error('checkTwinPlace not faked')
    },
    moveTwin: async () => {
      throw new Error('moveTwin not faked')
    },
    ...overrides,
  }
}
