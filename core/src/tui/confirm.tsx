import { Text, useInput } from 'ink'
import { useLiveState } from './hooks.js'

/** "Question? Yes / No": ←/→ (or Tab) choose, Enter answers, y/n answer at once. No is the default. */
export function Confirm({ question, onAnswer, active = true }: { question: string; onAnswer: (yes: boolean) => void; active?: boolean }) {
  const [yes, setYes, latestYes] = useLiveState(false)
  useInput(
    (input, key) => {
      if (key.leftArrow || key.rightArrow || key.tab) setYes((v) => !v)
      else if (key.return) onAnswer(latestYes())
      else if (input === 'y' || input === 'Y') onAnswer(true)
      else if (input === 'n' || input === 'N') onAnswer(false)
    },
    { isActive: active },
  )
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
