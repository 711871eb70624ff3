/**
 * A schema built when it is first used: `export const X = lazySchema(() => Type.Object({ ... }))`,
 * used as `X()` (the same object every time), its type `Type.Static<ReturnType<typeof X>>`. A
 * schema that another one holds is called inside that one's builder. Where a schema is passed on,
 * pass `X()`: a TSchema parameter takes the function too (typebox's TSchema is an empty
 * interface), and a test that checks a document against it shows the mistake.
 *
 * Speed (issue 22, session 41): the providers' and the core's schemas were built as their modules
 * loaded, and building one loads typebox: the SDK's sdk-lib.cjs, typebox's ~700 modules and the
 * SDK's own schemas, in every run that loads a provider, though an unchanged snapshot checks no
 * document against a schema and `plan` and `status` of an unchanged machine take the documents
 * collect just made unchecked (MadeDocuments). With the SDK's entries in sdk-lib.cjs loaded on the
 * first read of a name they alone have (core/scripts/bundle.mjs, SDK_LAZY_ENTRY, SDK_HELD), the
 * files provider's config schema written out (it is read in every run: plugins/files/src/config.ts)
 * and a config that sets nothing checked without the core's schema, none of the three loads it.
 * Callgrind (node only, `npm run bench:compare` against 08d8e394, services root, 3 interleaved
 * pairs, the same output): unchanged snapshot 465.4 -> 414.9 M instructions (-50.5 M, -10.9%),
 * `plan` 494.3 -> 442.0 M (-52.2 M, -10.6%), `status` 500.1 -> 447.6 M (-52.4 M, -10.5%); every
 * command that loads sdk.cjs (now 29 KB larger: the Debian services' table and the other SDK_HELD
 * modules) about +0.8 M (`history --help` 221.7 -> 222.5 M, `history --limit 1` 256.1 -> 256.8 M);
 * `--version` 112.0 -> 111.9 M.
 */
export function lazySchema<T>(build: () => T): () => T {
  let schema: T | undefined
  return () => (schema ??= build())
}
