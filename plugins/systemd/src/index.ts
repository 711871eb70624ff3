import type { Provider } from '@twinsync/sdk'
import { SystemdProvider } from './provider.js'

export { SystemdProvider } from './provider.js'
export { SystemdState, UnitEntry, RuntimeEntry, StartupState, UNITS_DOCUMENT, RUNTIME_DOCUMENT, STARTUP_DOCUMENT } from './state.js'
export type { SystemdChangeData, SystemdOperation } from './change.js'
export { isChangeableUnitName } from './unit-name.js'
export { isActive, listeningSockets, verifyBack } from './verify.js'

export const providers: Provider[] = [new SystemdProvider()]
