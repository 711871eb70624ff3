import { useState } from 'react'
import { Text, useInput } from 'ink'

/** A one-line editor: type, Backspace, Enter keeps, Esc cancels. */
export function TextInput({ label, initial, onDone }: { label: string; initial: string; onDone: (value: string | undefined) => void }) {
  const [value, setValue] = useState(initial)
  useInput((input, key) => {
    if (key.escape) onDone(undefined)
    else if (key.return) onDone(value)
    else if (key.backspace || key.delete) setValue((v) => v.slice(0, -1))
    else if (!key.ctrl && !key.meta && input.length > 0 && !/[\x00-\x1f]/.test(input)) setValue((v) => v + input)
  })
  return (
    <Text wrap="truncate-start">
      {label}: <Text inverse>{value}</Text>
      <Text inverse> </Text>
    </Text>
  )
}
