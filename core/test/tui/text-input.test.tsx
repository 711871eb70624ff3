import { strict as assert } from 'node:assert'
import { render } from 'ink-testing-library'
import { TextInput } from '../../src/tui/text-input.js'
import { KEYS, sleep } from './harness.js'

/** The field's value after `chunks` arrive (each as one write, as a terminal delivers a paste) and Enter. */
async function typedThenEnter(...chunks: string[]): Promise<string | undefined> {
  let done: string | undefined = 'never called'
  const r = render(<TextInput label="Token" initial="" mask onDone={(v) => (done = v)} />)
  try {
    for (const chunk of chunks) {
      await sleep(30)
      r.stdin.write(chunk)
    }
    await sleep(30)
    r.stdin.write(KEYS.enter)
    await sleep(30)
    return done
  } finally {
    r.unmount()
  }
}

describe('TUI text field', () => {
  it('takes a token pasted with the line ending it was copied with (before: the whole paste was dropped, Enter gave "")', async () => {
    for (const ending of ['\r', '\n', '\r\n']) assert.equal(await typedThenEnter(`ghp_abc123${ending}`), 'ghp_abc123', JSON.stringify(ending))
  })

  it('adds nothing for a paste of several lines; typed keys before and after still go in', async () => {
    assert.equal(await typedThenEnter('ab', 'one\rtwo', 'c'), 'abc')
  })
})
