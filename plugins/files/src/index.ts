import type { Provider } from '@twinsync/sdk'
import { FilesProvider } from './provider.js'

export { FilesProvider } from './provider.js'
export { FilesConfigSchema, DEFAULT_INCLUDE, type FilesConfigInput } from './config.js'
export { mirroredPaths } from './include.js'
export { MAX_MANIFEST_ENTRIES } from './manifest.js'
export { FilesState, Manifest, ManifestEntry, FileEntry, MANIFEST_PATH } from './state.js'
export { FilesChangeData } from './change-data.js'
export { DEFAULT_IGNORE, LEFTOVER_PATTERNS } from './ignore.js'
export { MAX_MIRRORED_PATH_BYTES } from './collect.js'
export { setSplitFromForTests } from './manifest.js'
export { DEFAULT_SECRET_PATHS, onlyRootCanRead } from './secrets.js'

export const providers: Provider[] = [new FilesProvider()]
