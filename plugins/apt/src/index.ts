import type { Provider } from '@twinsync/sdk'
import { AptProvider } from './provider.js'

export { AptProvider } from './provider.js'
export { AptState, AptPackage, APT_DOCUMENT } from './state.js'
export { AptPins, APT_PINS_DOCUMENT, withPins } from './pins.js'
export type { AptChangeData, AptOperation } from './change.js'
export { isValidPackageName } from './name.js'

export const providers: Provider[] = [new AptProvider()]
