/** The SDK's version, which a plugin's `@twinsync/sdk` range is checked against. */
export const SDK_VERSION = '0.1.0'
