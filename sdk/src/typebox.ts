// typebox as the host and the built-in plugins load it: through the SDK's bundle, so the process
// holds one copy of it (see core/scripts/bundle.mjs). Plugins keep importing `Type` from the SDK.
export * from 'typebox'
export { default } from 'typebox'
