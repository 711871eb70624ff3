import { useMemo, useState } from 'react'
import { useApp, useInput } from 'ink'
import { HistoryScreen } from './history-screen.js'
import { GitHubScreen } from './github-screen.js'
import { InitScreen } from './init-screen.js'
import { MainMenu } from './main-menu.js'
import { NavigationContext, type Navigation, type Route } from './navigation.js'
import { PlanScreen } from './plan-screen.js'
import { ServicesContext, type TuiServices } from './services.js'
import { SettingsScreen } from './settings-screen.js'
import { SnapshotDetail } from './snapshot-detail.js'
import { SnapshotScreen } from './snapshot-screen.js'
import { StatusProvider, useStatusModel } from './status-line.js'

/** The control panel: a stack of screens over the services the subcommands use. */
export function App({ services, initial = [{ name: 'menu' }] }: { services: TuiServices; initial?: Route[] }) {
  const { exit } = useApp()
  const [stack, setStack] = useState<Route[]>(initial)
  const status = useStatusModel(services)
  const nav = useMemo<Navigation>(
    () => ({
      push: (route) => setStack((s) => [...s, route]),
      back: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
      home: () => setStack((s) => s.slice(0, 1)),
      exit: () => exit(),
    }),
    [exit],
  )
  // Ctrl-C leaves from anywhere; an apply under way is stopped between steps first (busy.ts).
  useInput((input, key) => {
    if (key.ctrl && input === 'c') exit()
  })
  const route = stack[stack.length - 1] ?? { name: 'menu' }
  return (
    <ServicesContext.Provider value={services}>
      <NavigationContext.Provider value={nav}>
        <StatusProvider value={status}>
          <RouteView key={stack.length} route={route} />
        </StatusProvider>
      </NavigationContext.Provider>
    </ServicesContext.Provider>
  )
}

function RouteView({ route }: { route: Route }) {
  switch (route.name) {
    case 'menu':
      return <MainMenu />
    case 'init':
      return <InitScreen />
    case 'snapshot':
      return <SnapshotScreen />
    case 'plan':
      return <PlanScreen {...route} />
    case 'history':
      return <HistoryScreen />
    case 'snapshot-detail':
      return <SnapshotDetail commit={route.commit} />
    case 'settings':
      return <SettingsScreen />
    case 'github':
      return <GitHubScreen />
  }
}
