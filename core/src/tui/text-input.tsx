import { Text, useInput } from 'ink'
import { useLiveState } from './hooks.js'

/** A one-line editor: type, Backspace, Enter keeps, Esc cancels. */
/** `mask` shows a dot for every character: for tokens, which must not end up on a screen. */
export function TextInput({ label, initial, onDone, mask = false }: { label: string; initial: string; onDone: (value: string | undefined) => void; mask?: boolean }) {
  const [value, setValue, latestValue] = useLiveState(initial)
  useInput((input, key) => {
    if (key.escape) onDone(undefined)
    else if (key.return) onDone(latestValue())
    else if (key.backspace || key.delete) setValue((v) => v.slice(0, -1))
    else if (!key.ctrl && !key.meta) {
      const typed = pastedLine(input)
      if (typed !== undefined) setValue((v) => v + typed)
    }
  })
  return (
    <Text wrap="truncate-start">
      {label}: <Text inverse>{mask ? '•'.repeat(value.length) : value}</Text>
      <Text inverse> </Text>
    </Text>
  )
}

/**
 * What a chunk of input adds to the line: the text itself, or a paste's text without the one line
 * ending it was copied with (a token copied from a file or a web page arrives as `ghp_…\r`; before,
 * the whole chunk was dropped for its control character and Enter then gave an empty value).
 * Anything else with a control character (a paste of several lines, an escape sequence) adds nothing.
 */
export function pastedLine(input: string): string | undefined {
  const text = input.replace(/(?:\r\n|\r|\n)$/, '')
  return text.length > 0 && !/[\x00-\x1f\x7f]/.test(text) ? text : undefined
}
