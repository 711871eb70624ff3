import { useCallback, useEffect, useRef, useState } from 'react'
import { useStdout } from 'ink'
import { trackBusy } from './busy.js'

export type TaskState<T> =
  | { status: 'running' }
  | { status: 'done'; value: T }
  | { status: 'failed'; error: unknown }
  | { status: 'cancelled' }

/**
 * Run async work when the component mounts (or `key` changes), with an AbortSignal that Esc
 * (cancel()) or leaving the screen trips. A result that arrives after that is dropped; the work
 * itself is waited for when the panel closes (trackBusy); `what` names it then ("the plan").
 */
export function useTask<T>(run: ((signal: AbortSignal) => Promise<T>) | undefined, key: unknown = 0, what = "the screen's task"): { state: TaskState<T> | undefined; cancel: () => void } {
  const [state, setState] = useState<TaskState<T> | undefined>(run === undefined ? undefined : { status: 'running' })
  const controller = useRef<AbortController | undefined>(undefined)
  const runRef = useRef(run)
  runRef.current = run
  const enabled = run !== undefined
  useEffect(() => {
    const work = runRef.current
    if (work === undefined) {
      setState(undefined)
      return
    }
    const c = new AbortController()
    controller.current = c
    setState({ status: 'running' })
    const done = work(c.signal).then(
      (value) => (c.signal.aborted ? undefined : setState({ status: 'done', value })),
      (error: unknown) => (c.signal.aborted ? undefined : setState({ status: 'failed', error })),
    )
    // Leaving the panel stops it and waits for it (busy.ts): a plan or snapshot writes into the twin.
    trackBusy(done, () => c.abort(), { background: true, what })
    return () => c.abort()
  }, [key, enabled])
  const cancel = useCallback(() => {
    if (controller.current?.signal.aborted === false) {
      controller.current.abort()
      setState({ status: 'cancelled' })
    }
  }, [])
  return { state, cancel }
}

/** The terminal's size; 80x24 when it cannot be told (tests, pipes). */
export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout()
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 })
  const [size, setSize] = useState(read)
  useEffect(() => {
    const onResize = () => setSize(read())
    stdout.on('resize', onResize)
    return () => {
      stdout.off('resize', onResize)
    }
  }, [stdout])
  return size
}

/** The height left for a screen's body: the title, status line and key hints take three rows. */
export function useBodyHeight(): number {
  return Math.max(5, useTerminalSize().rows - 4)
}

/** A cursor over `length` items that stays in range as the list changes. */
export function useCursor(length: number, initial = 0): [number, (next: number | ((i: number) => number)) => void, () => number] {
  const [index, setIndex] = useState(initial)
  // ink emits every key of one input chunk in the same tick (a fast "3⏎", "↓␣", a paste, a loaded
  // machine), before React renders again: a handler that read `index` from its render would act
  // on the row before the move. The ref follows every move at once; handlers read it via latest().
  const latestRef = useRef(initial)
  const lengthRef = useRef(length)
  lengthRef.current = length
  const clamp = (i: number) => Math.max(0, Math.min(lengthRef.current - 1, i))
  const set = useCallback((next: number | ((i: number) => number)) => {
    const value = clamp(typeof next === 'function' ? next(clamp(latestRef.current)) : next)
    latestRef.current = value
    setIndex(value)
  }, [])
  const latest = useCallback(() => clamp(latestRef.current), [])
  return [clamp(index), set, latest]
}

/**
 * State that a key handler can read the moment after it was set: ink hands every key of one
 * input chunk to the handlers in the same tick, before React renders again (see useCursor), so
 * "→⏎" on a Yes/No question or "abc⏎" in a text field must read the value through latest().
 */
export function useLiveState<T>(initial: T): [T, (next: T | ((value: T) => T)) => void, () => T] {
  const [value, setValue] = useState(initial)
  const latestRef = useRef(initial)
  const set = useCallback((next: T | ((value: T) => T)) => {
    const v = typeof next === 'function' ? (next as (value: T) => T)(latestRef.current) : next
    latestRef.current = v
    setValue(v)
  }, [])
  const latest = useCallback(() => latestRef.current, [])
  return [value, set, latest]
}

/** The first visible row of a window of `height` rows that keeps `index` in view. */
export function windowStart(index: number, length: number, height: number): number {
  if (length <= height) return 0
  return Math.max(0, Math.min(index - Math.floor(height / 2), length - height))
}
