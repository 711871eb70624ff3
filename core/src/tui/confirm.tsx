import { Text, useInput } from 'ink'
import { useLiveState } from './hooks.js'

/**
 * "Question? Yes / No": ←/→ (or Tab) choose, Enter answers, y/n answer at once. No is the default.
 * With `typed` (session 20: changes that run code as root or open a login) no key answers yes at
 * once: the person types the word (`yes`), and Enter answers yes only when it is exactly that.
 */
export function Confirm({ question, onAnswer, active = true, typed }: { question: string; onAnswer: (yes: boolean) => void; active?: boolean; typed?: string }) {
  const [yes, setYes, latestYes] = useLiveState(false)
  const [text, setText, latestText] = useLiveState('')
  useInput(
    (input, key) => {
      if (typed !== undefined) {
        if (key.return) onAnswer(latestText().trim().toLowerCase() === typed)
        else if (key.backspace || key.delete) setText((v) => v.slice(0, -1))
        else if (!key.ctrl && !key.meta && input.length > 0 && !/[\x00-\x1f]/.test(input)) setText((v) => (v + input).slice(0, 20))
        return
      }
      if (key.leftArrow || key.rightArrow || key.tab) setYes((v) => !v)
      else if (key.return) onAnswer(latestYes())
      else if (input === 'y' || input === 'Y') onAnswer(true)
      else if (input === 'n' || input === 'N') onAnswer(false)
    },
    { isActive: active },
  )
  if (typed !== undefined) {
    return (
      <Text>
        <Text bold>{question}</Text> Type <Text bold>{typed}</Text> and Enter to apply: <Text inverse>{text}</Text>
        <Text inverse> </Text>
      </Text>
    )
  }
  return (
    <Text>
      <Text bold>{question}</Text>{' '}
      <Text inverse={yes} bold={yes}>
        {' Yes '}
      </Text>{' '}
      <Text inverse={!yes} bold={!yes}>
        {' No '}
      </Text>
    </Text>
  )
}
