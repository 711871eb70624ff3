// Entry point of "@twinsync/sdk/conformance": kept apart so the host never loads the kit.
export { checkConformance, type ConformanceOptions } from './conformance.js'
export { createTestContext, type TestContextOptions } from './test-context.js'
