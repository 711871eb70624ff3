// typebox's value module, through the SDK's bundle (see typebox.ts and core/scripts/bundle.mjs).
export * from 'typebox/value'
export { default } from 'typebox/value'
