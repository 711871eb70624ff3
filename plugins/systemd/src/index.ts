import type { Provider } from '@twinsync/sdk'
import { SystemdProvider } from './systemd-provider.js'

export { SystemdProvider } from './systemd-provider.js'
export { SystemdState, UnitEntry, RuntimeEntry, StartupState, UNITS_DOCUMENT, RUNTIME_DOCUMENT, STARTUP_DOCUMENT } from './service-state.js'
export type { SystemdChangeData, SystemdOperation } from './service-change.js'
export { isChangeableUnitName } from './unit-name.js'
export { isActive, listeningSockets, verifyBack } from './service-verify.js'

export const providers: Provider[] = [new SystemdProvider()]
