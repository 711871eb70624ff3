import type { Provider } from '@twinsync/sdk'
import { AutostartProvider } from './autostart-provider.js'

export { AutostartProvider } from './autostart-provider.js'
export { startupEntries, type StartupEntry } from './startup-entry.js'
export { parseDesktopEntry, setDesktopEntryEnabled, type DesktopEntry } from './desktop-entry.js'
export type { AutostartChangeData, AutostartOperation } from './autostart-change.js'
export { AutostartEntry, AutostartState, IgnoredAutostartFile, RcLocal } from './autostart-state.js'

export const providers: Provider[] = [new AutostartProvider()]
