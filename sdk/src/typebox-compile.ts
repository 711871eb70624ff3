// typebox's compiler, through the SDK's bundle: what validatorOf loads on the first schema check
// (see compiled-schema.ts), sharing the bundle's one copy of typebox.
export { Compile } from 'typebox/compile'
