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
    else if (!key.ctrl && !key.meta && input.length > 0 && !/[\x00-\x1f]/.test(input)) setValue((v) => v + input)
  })
  return (
    <Text wrap="truncate-start">
      {label}: <Text inverse>{mask ? '•'.repeat(value.length) : value}</Text>
      <Text inverse> </Text>
    </Text>
  )
}
