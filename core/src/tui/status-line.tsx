import { createContext, useCallback, useContext, useEffect, useState } from 'react'
import { Text } from 'ink'
import type { HistoryEntry } from '../history/history-service.js'
import { trackBusy } from './busy.js'
import { NOT_LINKED, type RemoteStatus, type TuiServices } from './services.js'

export interface StatusModel {
  twin: string
  last: HistoryEntry | undefined | 'loading' | 'none'
  drift: 'checking' | 'in sync' | { count: number } | 'unknown'
  /** Parts of the twin not compared (no provider reads them, or theirs failed): then never "in sync". */
  missing: number
  /** Things the twin asks for that the machine does not have yet (edits, pulls, changes not applied, run-once commands of plans/ not run yet). */
  pending: number | undefined
  /** The pending edits are set aside, not in the working twin (a snapshot, adopt or pull did not put them back): `twinsync snapshot` does. */
  setAside: boolean
  /** Of the pending items, those the last apply failed, and of them those that may be half done on the machine (`status` says which). */
  failed: { count: number; halfDone: number }
  /** The mirror's line; undefined while it is being checked. */
  remote: RemoteStatus | undefined
  refresh: () => void
}

const StatusContext = createContext<StatusModel | undefined>(undefined)
export const StatusProvider = StatusContext.Provider

/**
 * The status line's facts. The last snapshot is quick; drift collects the machine, so it is
 * checked in the background after the first paint and shows "checking…" meanwhile.
 */
export function useStatusModel(services: TuiServices): StatusModel {
  const [generation, setGeneration] = useState(0)
  const [last, setLast] = useState<StatusModel['last']>('loading')
  const [drift, setDrift] = useState<StatusModel['drift']>('checking')
  const [pending, setPending] = useState<number | undefined>(undefined)
  const [missing, setMissing] = useState(0)
  const [setAside, setSetAside] = useState(false)
  const [failed, setFailed] = useState({ count: 0, halfDone: 0 })
  // No mirror port wired: "not linked" is a settled fact, not something still being checked.
  const [remote, setRemote] = useState<RemoteStatus | undefined>(services.remote === undefined ? UNWIRED : undefined)
  useEffect(() => {
    const c = new AbortController()
    setDrift('checking')
    // After the first paint: a timer, not the render itself, starts the slow work.
    // The three are tracked (busy.ts): leaving stops them and waits, so none writes into the twin after the panel is gone.
    const timer = setTimeout(() => {
      const last = services.lastSnapshot().then(
        (e) => c.signal.aborted || setLast(e ?? 'none'),
        () => c.signal.aborted || setLast('none'),
      )
      const drift = services.drift(c.signal).then(
        (d) => {
          if (c.signal.aborted) return
          // The verdict `twinsync status` gives (inSync): an unread part of the twin is never "in sync".
          setMissing(d.missing ?? 0)
          setDrift(d.drift ? { count: d.changes } : (d.missing ?? 0) > 0 ? 'unknown' : 'in sync')
          setPending(d.pending)
          setSetAside(d.setAside === true)
          setFailed({ count: d.failed ?? 0, halfDone: d.halfDone ?? 0 })
        },
        () => c.signal.aborted || setDrift('unknown'),
      )
      const remote = services.remote?.status(c.signal).then(
        (r) => c.signal.aborted || setRemote(r),
        () => undefined,
      )
      trackBusy(Promise.all([last, drift, remote]), () => c.abort(), { background: true, what: "the status line's drift check" })
    }, 10)
    return () => {
      clearTimeout(timer)
      c.abort()
    }
  }, [services, generation])
  const refresh = useCallback(() => setGeneration((g) => g + 1), [])
  return { twin: services.location().dir, last, drift, pending, missing, setAside, failed, remote, refresh }
}

const UNWIRED: RemoteStatus = { summary: NOT_LINKED, linked: false }

export function useStatus(): StatusModel | undefined {
  return useContext(StatusContext)
}

export function StatusLine() {
  const s = useStatus()
  if (s === undefined) return null
  const last =
    s.last === 'loading' ? 'last …' : s.last === 'none' || s.last === undefined ? 'no snapshot yet' : `last ${s.last.commit.slice(0, 7)} ${s.last.date.slice(0, 16).replace('T', ' ')}`
  const unread = s.drift !== 'checking' && s.missing > 0
  const drift = unread
    ? `NOT in sync: ${s.missing} part${s.missing === 1 ? '' : 's'} not compared${typeof s.drift === 'object' ? `; drift: ${s.drift.count}` : ''}`
    : s.drift === 'checking' ? 'drift: checking…' : s.drift === 'in sync' ? 'drift: none' : s.drift === 'unknown' ? 'drift: unknown' : `drift: ${s.drift.count} change${s.drift.count === 1 ? '' : 's'}`
  // Short: the line has the width of the terminal. `twinsync status` says which, and why.
  const failed = s.failed.count === 0 ? '' : ` (${s.failed.count} failed${s.failed.halfDone === 0 ? '' : s.failed.halfDone === s.failed.count ? ': may be half done' : `, ${s.failed.halfDone} may be half done`})`
  const pending = s.pending === undefined ? '' : ` · pending: ${s.pending}${failed}${s.setAside ? ' (set aside: a snapshot puts them back)' : ''}`
  const driftColor = unread ? 'red' : typeof s.drift === 'object' ? 'yellow' : s.drift === 'in sync' ? 'green' : undefined
  return (
    <Text wrap="truncate-end" dimColor={false}>
      <Text inverse> {s.twin} </Text> {last} · <Text {...(driftColor ? { color: driftColor } : {})}>{drift}</Text>
      <Text {...(s.pending ? { color: 'yellow' } : {})}>{pending}</Text> · {s.remote?.summary ?? 'GitHub: checking…'}
    </Text>
  )
}
