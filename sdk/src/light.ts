// Speed (issue 22, session 27): the SDK's light entry, `@twinsync/sdk/light`, what the core needs
// to reach the twin (errors, the host port, stable JSON, atomic writes, stat data, secret
// redaction…) without the SDK's index, whose typebox and schemas every command that reached the
// twin paid for: loading sdk-lib.cjs (read, its code cache deserialised) and running the index's
// modules. Its modules are the index's own (the index re-exports them): one instance, so an error
// made through one entry is `instanceof` the other's. Nothing here may import typebox (the build
// refuses it, core/scripts/bundle.mjs); a module that needs a schema stays on the index.
// Its figure: core/scripts/bundle.mjs (SDK_LIGHT) and docs/architecture.md (Speed, session 27).
// Session 41: lazySchema too, for the providers' schemas (see sdk/src/lazy-schema.ts).
export * from './errors.js'
export * from './domains.js'
export * from './sdk-version.js'
export * from './diagnostic-codes.js'
export * from './applicable.js'
export * from './schema-words.js'
export * from './twin-document.js'
export * from './host.js'
export * from './context.js'
export * from './command-line.js'
export * from './glob.js'
export * from './path-claims.js'
export * from './machine-refusal.js'
export * from './target-path.js'
export * from './git-names.js'
export * from './stable-json.js'
export * from './append-all.js'
export * from './atomic-write.js'
export * from './own-env.js'
export * from './linked-folder.js'
export * from './local-host.js'
export * from './xattr.js'
export * from './recording-host.js'
export * from './stat-data.js'
export * from './process-start.js'
export * from './signature-cache.js'
export * from './known-blobs.js'
export * from './kept-parts.js'
export * from './secrets.js'
// Session 50: commonEnds, which the snapshot's windowed screen asks (core/src/snapshot/screened-documents.ts):
// on the index alone, a snapshot that screened a large document around its change loaded sdk-lib.cjs for it
// (the scale root's one-file snapshot: 33–39 M instructions from its code cache, 105 M without; docs/architecture.md Speed, session 50).
export * from './common-ends.js'
export * from './lazy-schema.js'
export * from './provider-codes.js'
export * from './passwd.js'
export * from './group.js'
