import Type from 'typebox'

/** TwinSync's own keys; every other top-level key must be the name of a loaded provider. */
export const CoreConfig = Type.Object(
  {
    /** Where the twin repository lives. */
    repo: Type.Optional(Type.String({ minLength: 1 })),
    limits: Type.Optional(
      Type.Object(
        {
          maxFileSize: Type.Optional(Type.Integer({ minimum: 0 })),
          logLines: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
          logBytes: Type.Optional(Type.Integer({ minimum: 0 })),
          topProcesses: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
    ),
    providers: Type.Optional(
      Type.Object(
        {
          /** Providers that are loaded but never run. */
          disabled: Type.Optional(Type.Array(Type.String())),
          /** How long a plugin may take to answer the providers hook (ms). */
          hookTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600000 })),
          /** How long a provider's detect, collect, load, diff or check may take (ms). */
          callTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 86400000 })),
          /** How long a provider's apply may take (ms). */
          applyTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 86400000 })),
          /** How many providers collect at once. */
          concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: true },
)
export type CoreConfig = Type.Static<typeof CoreConfig>

export const CORE_CONFIG_KEYS = ['repo', 'limits', 'providers'] as const
