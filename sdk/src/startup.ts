import type { ProviderContext } from './context.js'
import type { Provider } from './provider.js'

/**
 * One row of the startup table (`twinsync startup`): something that runs at boot, at login or
 * on a schedule, whichever provider knows about it.
 */
export interface StartupEntry {
  /** Where it is defined: systemd, cron, rc.local, autostart, or a plugin's own word. */
  source: string
  /** boot: when the machine starts; login: when a user's session starts; schedule: repeatedly. */
  trigger: 'boot' | 'login' | 'schedule'
  /** The user it runs as; absent when it is the system's, or every user's. */
  user?: string
  /** What a person looks it up by: a unit name, a file and line. */
  name: string
  /** The command line, where the source says it (a systemd unit names its ExecStart elsewhere). */
  command?: string
  enabled: boolean
  /** Why it does not run though it is configured to, in the source's own word ("masked"). */
  state?: string
  /** The cron schedule, for scheduled entries. */
  schedule?: string
  /** Desktops an autostart entry is limited to (OnlyShowIn) or kept from (NotShowIn). */
  onlyShowIn?: string[]
  notShowIn?: string[]
}

/** An optional capability: a provider whose state says what starts at boot or login. */
export interface StartupView<State = unknown> {
  /**
   * The rows of a state just collected. `ctx` is the collect's context (a host that only reads):
   * for what the state does not hold, such as the command a systemd unit runs, read from its unit
   * file. Called without one, rows from the state alone.
   */
  startupEntries(state: State, ctx?: ProviderContext): StartupEntry[] | Promise<StartupEntry[]>
}

export function hasStartupView<S>(provider: Provider<S>): provider is Provider<S> & StartupView<S> {
  return typeof (provider as Partial<StartupView<S>>).startupEntries === 'function'
}
