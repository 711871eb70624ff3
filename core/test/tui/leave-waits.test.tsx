import { strict as assert } from 'node:assert'
import { busyMark, leavePanel, settleBusy, trackBusy } from '../../src/tui/busy.js'
import { callProvider } from '../../src/providers/provider-call.js'
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

/**
 * Session 45: leaving waited for that work with nothing on the terminal, up to
 * providers.callTimeoutMs for a provider call that ignores the cancel. leavePanel says what it
 * waits for once the wait is not short; a Ctrl-C stops waiting for the provider calls, a second
 * leaves at once (exit 130) and says how.
 */
describe('TUI: leaving says what it waits for, and Ctrl-C stops waiting', () => {
  function terminal() {
    const written: string[] = []
    let interrupt: () => void = () => undefined
    const exits: number[] = []
    return {
      written,
      exits,
      press: () => interrupt(),
      io: {
        write: (text: string) => void written.push(text),
        onInterrupt: (fn: () => void) => {
          interrupt = fn
          return () => {
            interrupt = () => undefined
          }
        },
        exit: (code: number) => void exits.push(code),
      },
    }
  }

  it('names the work and the provider call it waits for, with its limit; a Ctrl-C gives the call up as its limit would, and the work ends', async () => {
    const mark = busyMark()
    const t = terminal()
    // A collect that ignores the cancel: the work stops only once the call is answered or given up.
    // A name of this test's own: a provider given up on is not asked again in this process.
    const call = callProvider({ name: 'stuck-on-leaving' }, 'collect', () => new Promise<never>(() => undefined))
    trackBusy(call, () => undefined, { background: true, what: "the status line's drift check" })
    const leaving = leavePanel(t.io, mark, 20)
    await sleep(150)
    assert.equal(t.written.length, 1, t.written.join(''))
    assert.match(t.written[0] ?? '', /^Leaving: stopping the status line's drift check, which waits for the stuck-on-leaving provider's collect\(\): it did not stop when asked\. TwinSync stops waiting for it in (9\.\d|10) min at most \(providers\.callTimeoutMs\); Ctrl-C to stop waiting now\.\n$/)
    t.press()
    assert.equal(await leaving, 0)
    assert.match(t.written[1] ?? '', /^Stopped waiting for the stuck-on-leaving provider's collect\(\); its code may still run until TwinSync ends\. Finishing TwinSync's own steps; Ctrl-C again to leave at once\.\n$/)
    const answer = await call
    assert.equal(answer.ok, false)
    assert.match(answer.ok ? '' : answer.diagnostic.summary, /^The stuck-on-leaving provider had not answered collect\(\) when the panel was left, and did not stop when asked: TwinSync stopped waiting for it \(Ctrl-C\)$/)
    assert.deepEqual(t.exits, [])
  })

  it('a second Ctrl-C leaves at once (exit 130), saying what was cut off and how it is settled; an apply is named', async () => {
    const mark = busyMark()
    const t = terminal()
    // An apply whose own step does not end (let go at the end, so nothing stays tracked).
    let release: () => void = () => undefined
    trackBusy(new Promise<void>((resolve) => (release = resolve)), () => undefined, { what: 'the apply' })
    const leaving = leavePanel(t.io, mark, 20)
    await sleep(100)
    assert.deepEqual(t.written, ['Leaving: stopping the apply…\n'])
    t.press()
    assert.equal(t.written[1], "Still finishing the apply; Ctrl-C again to leave at once.\n")
    assert.deepEqual(t.exits, [])
    t.press()
    assert.deepEqual(t.exits, [130])
    assert.match(t.written[2] ?? '', /^Left without waiting for the apply: cut off as a killed run would be\. The next twinsync command takes over its lock and finishes or undoes a half-made snapshot or index swap; an apply cut off is continued by the next apply \(history shows what was done\)\.\n$/)
    release()
    assert.equal(await leaving, 1)
  })

  // Session 45 (review): the first Ctrl-C gave up an apply() too, as its limit would: the run
  // ended and let go of its locks while the step's own processes went on changing the machine.
  it("a Ctrl-C never gives up a provider's apply(): it is waited for, and said so", async () => {
    const mark = busyMark()
    const t = terminal()
    let answer: () => void = () => undefined
    const step = callProvider({ name: 'slow-apply-on-leaving' }, 'apply', () => new Promise<{ results: [] }>((resolve) => (answer = () => resolve({ results: [] }))))
    trackBusy(step, () => undefined, { what: 'the apply' })
    const leaving = leavePanel(t.io, mark, 20)
    await sleep(100)
    t.press()
    assert.equal(t.written[1], "Still finishing the apply, which waits for the slow-apply-on-leaving provider's apply(): a change to the machine under way. Ctrl-C again to leave at once.\n")
    let settled = false
    void leaving.then(() => (settled = true))
    await sleep(100)
    assert.equal(settled, false, 'still waiting for the step')
    answer()
    const result = await step
    assert.equal(result.ok, true, 'the step answered: not given up')
    assert.equal(await leaving, 1, 'the apply waited for, as settleBusy counts it')
    assert.deepEqual(t.exits, [])
  })

  it('work that stops at once: nothing said', async () => {
    const mark = busyMark()
    const t = terminal()
    trackBusy(sleep(5), () => undefined, { background: true, what: 'the plan' })
    await leavePanel(t.io, mark, 50)
    await sleep(80)
    assert.deepEqual(t.written, [])
  })
})
