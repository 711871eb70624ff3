/** Kept in step with core/package.json by the release script. */
export const CORE_VERSION = '0.1.0'
