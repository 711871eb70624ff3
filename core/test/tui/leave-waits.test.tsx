import { strict as assert } from 'node:assert'
import { busyMark, settleBusy } from '../../src/tui/busy.js'
import { entry, fakeServices, openPanel, sleep } from './harness.js'

/**
 * Session 44: the status line's drift check (and a screen's task) went on after the panel was
 * closed: runTui exited the process in the middle of it, and fronts-agree's teardown removed a twin
 * it was still writing (its index, `.git/twinsync/cache`: "Directory not empty"). Leaving the panel
 * now stops that work and waits for it (busy.ts). A gate holds the work, so the order is certain.
 */
describe('TUI: work a screen started is stopped and waited for when the panel closes', () => {
  /** A promise the test lets go, and a record of what the work did after it was let go. */
  function gate() {
    let open: () => void = () => undefined
    const opened = new Promise<void>((resolve) => (open = resolve))
    return { opened, open }
  }

  async function settledBefore(mark: number, open: () => void, wrote: () => boolean): Promise<{ early: boolean; wroteFirst: boolean; named: number }> {
    let settled = false
    const settling = settleBusy(mark).then((n) => {
      settled = true
      return n
    })
    await sleep(100)
    const early = settled
    open()
    const named = await settling
    return { early, wroteFirst: wrote(), named }
  }

  it('the status line\'s drift check: aborted on unmount, and settleBusy waits until it has finished writing', async () => {
    const held = gate()
    let signal: AbortSignal | undefined
    let wrote = false
    const mark = busyMark()
    const panel = openPanel(
      fakeServices({
        drift: async (s) => {
          signal = s
          await held.opened
          wrote = true // the real check writes the twin's index and caches here
          return { drift: false, changes: 0, pending: 0 }
        },
      }),
    )
    await panel.waitFor('drift: checking')
    for (let i = 0; signal === undefined && i < 200; i++) await sleep(10)
    assert.ok(signal, 'the drift check started')
    panel.unmount()
    assert.equal(signal.aborted, true, 'closing the panel stops the check')
    const r = await settledBefore(mark, held.open, () => wrote)
    assert.equal(r.early, false, 'settleBusy returned while the drift check was still running')
    assert.equal(r.wroteFirst, true)
    assert.equal(r.named, 0, 'a background check is not "the apply under way" of the exit message')
  })

  it('a screen\'s task (useTask: History\'s list) is waited for', async () => {
    const held = gate()
    let wrote = false
    const mark = busyMark()
    const panel = openPanel(
      fakeServices({
        history: async () => {
          await held.opened
          wrote = true // HistoryService writes its count cache
          return [entry('abc', 'TwinSync snapshot', 'snapshot')]
        },
        drift: async () => ({ drift: false, changes: 0, pending: 0 }),
      }),
      [{ name: 'menu' }, { name: 'history' }],
    )
    await panel.waitFor('drift: none')
    panel.unmount()
    const r = await settledBefore(mark, held.open, () => wrote)
    assert.equal(r.early, false, 'settleBusy returned while the history task was still running')
    assert.equal(r.wroteFirst, true)
  })
})
