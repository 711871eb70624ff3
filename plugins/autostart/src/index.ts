import type { Provider } from '@twinsync/sdk'
import { AutostartProvider } from './provider.js'

export { AutostartProvider } from './provider.js'
export { startupEntries, type StartupEntry } from './startup-entry.js'
export { parseDesktopEntry, setDesktopEntryEnabled, type DesktopEntry } from './desktop-entry.js'
export type { AutostartChangeData, AutostartOperation } from './change.js'
export { AutostartEntry, AutostartState, IgnoredAutostartFile, RcLocal } from './state.js'

export const providers: Provider[] = [new AutostartProvider()]
