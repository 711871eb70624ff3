import { Box, Text, useInput } from 'ink'
import { useCursor } from './hooks.js'
import { MOVE } from './key-hints.js'
import { useNavigation, type Route } from './navigation.js'
import { Row, Screen } from './screen.js'

export const MENU: ReadonlyArray<{ label: string; route: Route | 'exit'; help: string }> = [
  { label: 'Init / GitHub linking', route: { name: 'init' }, help: 'Where the twin is, create it, link a GitHub mirror' },
  { label: 'Push snapshot', route: { name: 'snapshot' }, help: 'Collect this machine into the twin and commit' },
  { label: 'Pull & apply changes', route: { name: 'plan' }, help: 'Review what it takes to match the twin, then apply' },
  { label: 'History & Time Machine', route: { name: 'history' }, help: 'Snapshots, what each changed, revert to one' },
  { label: 'Settings (paths, ignore rules, GitHub)', route: { name: 'settings' }, help: 'Edit the configuration file, checked before saving' },
  { label: 'Exit', route: 'exit', help: 'Leave TwinSync' },
]

export function MainMenu() {
  const nav = useNavigation()
  const [index, setIndex, latestIndex] = useCursor(MENU.length)
  useInput((input, key) => {
    if (key.upArrow) setIndex((i) => i - 1)
    else if (key.downArrow) setIndex((i) => i + 1)
    else if (key.return) {
      const route = MENU[latestIndex()]?.route
      if (route === 'exit') nav.exit()
      else if (route !== undefined) nav.push(route)
    } else if (input === 'q') nav.exit()
    else if (/^[1-6]$/.test(input)) setIndex(Number(input) - 1)
  })
  return (
    <Screen title="Main menu" hints={[MOVE, ['Enter', 'open'], ['1-6', 'jump'], ['q', 'exit']]}>
      <Box flexDirection="column" marginTop={1}>
        {MENU.map((item, i) => (
          <Row key={item.label} selected={i === index}>
            {i + 1}. {item.label}
          </Row>
        ))}
      </Box>
      <Box marginTop={1}>
        <Text dimColor wrap="truncate-end">
          {MENU[index]?.help}
        </Text>
      </Box>
    </Screen>
  )
}
