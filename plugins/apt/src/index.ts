import type { Provider } from '@twinsync/sdk'
import { AptProvider } from './apt-provider.js'

export { AptProvider } from './apt-provider.js'
export { AptState, AptPackage, APT_DOCUMENT } from './package-state.js'
export { AptPins, APT_PINS_DOCUMENT, withPins } from './package-pins.js'
export type { AptChangeData, AptOperation } from './package-change.js'
export { isValidPackageName } from './package-name.js'

export const providers: Provider[] = [new AptProvider()]
