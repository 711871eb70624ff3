import { createRequire } from 'node:module'
import type { TSchema } from 'typebox'
import type { Validator } from 'typebox/compile'

const validators = new WeakMap<TSchema, Validator>()
let compile: ((schema: TSchema) => Validator) | undefined

/**
 * Speed: typebox's compiled validator for a schema, built once and kept for the process. It
 * answers exactly what `Value.Check` and `Value.Errors` answer (the same checks, the same
 * errors), as generated code instead of an interpreter walking the schema for every value.
 * Measured on the files manifest of the Debian server root (615 entries), shared 2-core
 * machine: `Value.Check` 110–250 ms, compiling 0.4–14 ms and the compiled check 0.4–45 ms.
 *
 * The compiler (with typebox's value and schema modules, 210 KB bundled) is loaded on the first
 * check, not with the SDK: an unchanged snapshot checks nothing against a schema, and loading
 * it cost 13–15 ms of CPU a run (services root, medians of 15 interleaved runs, load 2.5). It is
 * required synchronously (`require` of an ES module, Node >= 20.19) from the SDK's own entry
 * `@twinsync/sdk/typebox/compile`, so that in the bundle it is the same typebox the schemas were
 * built with.
 */
export function validatorOf<T extends TSchema>(schema: T): Validator<{}, T> {
  let validator = validators.get(schema)
  if (validator === undefined) {
    compile ??= (createRequire(import.meta.url)('@twinsync/sdk/typebox/compile') as { Compile: (schema: TSchema) => Validator }).Compile
    validator = compile(schema)
    validators.set(schema, validator)
  }
  return validator as unknown as Validator<{}, T>
}
