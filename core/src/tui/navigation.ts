import { createContext, useContext } from 'react'

/** Where the user is; the app keeps a stack of these, Esc pops one. */
export type Route =
  | { name: 'menu' }
  | { name: 'init' }
  | { name: 'snapshot' }
  | { name: 'plan'; from?: string; only?: string[]; revertTo?: string; title?: string }
  | { name: 'history' }
  | { name: 'snapshot-detail'; commit: string }
  | { name: 'settings' }
  | { name: 'github' }

export interface Navigation {
  push(route: Route): void
  back(): void
  home(): void
  exit(): void
}

export const NavigationContext = createContext<Navigation | undefined>(undefined)

export function useNavigation(): Navigation {
  const nav = useContext(NavigationContext)
  if (nav === undefined) throw new Error('useNavigation() outside the app')
  return nav
}

/** Esc or q: the "go back" keys of every screen. */
export function isBack(input: string, key: { escape: boolean }): boolean {
  return key.escape || input === 'q'
}
