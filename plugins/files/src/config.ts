import { Value } from 'typebox/value'
import { TwinSyncError, schemaWords, type Limits } from '@twinsync/sdk'
import { DEFAULT_IGNORE } from './ignore.js'

/** What is mirrored when the configuration says nothing: the places an administrator edits. */
export const DEFAULT_INCLUDE: readonly string[] = [
  '/etc',
  '/usr/local/bin',
  '/usr/local/etc',
  '~/.config',
  '~/.bashrc',
  '~/.bash_profile',
  '~/.bash_aliases',
  '~/.bash_logout',
  '~/.profile',
  '~/.zshrc',
  '~/.zprofile',
  '~/.inputrc',
  '~/.gitconfig',
  '~/.vimrc',
  '~/.tmux.conf',
  '~/.selected_editor',
]

const INCLUDE_RULE = 'must be an absolute path (or ~/x) with no "." or ".." part, and not /, /proc, /sys or /dev or below (kernel interfaces, not files to mirror)'

/**
 * The files section's schema, as JSON Schema written out rather than built with typebox's `Type`
 * (typebox 1.x builds this same object; its checks and errors are the same either way): the core
 * fills a provider's defaults in from its schema in every run that collects (applyDefaults in
 * core/src/collect/context-factory.ts), and building it would load typebox for that alone (the
 * SDK's sdk-lib.cjs; see sdk/src/lazy-schema.ts for the figure). Checked with typebox's `Value`
 * only when a section says something other than the defaults (saysNothing).
 */
export const FilesConfigSchema = {
  type: 'object',
  properties: {
    // Absolute or ~/, with no "." or ".." component: an include path names a place, not a route to one.
    // Not /proc, /sys or /dev (or below), nor "/" which holds them: kernel interfaces, not files
    // to mirror (process environments, devices; session 17).
    include: {
      type: 'array',
      items: { type: 'string', pattern: '^(?!/+((proc|sys|dev)(/|$)|$))(/|~/)(?!(.*/)?\\.\\.?(/|$))[^\\u0000]*$', errorMessage: INCLUDE_RULE },
      description: 'Absolute paths to mirror; "~/x" means x in each selected user\'s home. Replaces the default list.',
      default: DEFAULT_INCLUDE,
    },
    ignore: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description: 'Glob patterns left out, added to the defaults. With a "/": the whole path; without: the name.',
      default: [],
    },
    defaultIgnore: { type: 'boolean', description: 'Keep the built-in ignore list (default true).', default: true },
    users: {
      anyOf: [{ type: 'string', const: 'default' }, { type: 'array', items: { type: 'string', pattern: '^[a-z_][a-z0-9_.-]*\\$?$' } }],
      description: '"default": root and every user with uid >= 1000 and an existing home; or a list of names.',
      default: 'default',
    },
    maxFileSize: { type: 'integer', minimum: 0, description: 'Bytes; larger files are recorded, not copied.' },
    secrets: {
      type: 'object',
      properties: {
        paths: { type: 'array', items: { type: 'string', pattern: '^/' }, description: 'Extra secret path patterns.', default: [] },
        detectContent: { type: 'boolean', description: 'Treat any file holding a private key or known token as secret (default true).', default: true },
        allow: {
          type: 'array',
          items: { type: 'string', pattern: '^/' },
          description:
            'Path patterns of files held out only for their shape (one or two bare tokens not world-readable, or one token whoever may read it) and still to be mirrored (not secrets).',
          default: [],
        },
      },
      additionalProperties: false,
      default: {},
    },
  },
  additionalProperties: false,
}

/** The files section as a person writes it: what FilesConfigSchema accepts. */
export interface FilesConfigInput {
  include?: string[]
  ignore?: string[]
  defaultIgnore?: boolean
  users?: 'default' | string[]
  maxFileSize?: number
  secrets?: { paths?: string[]; detectContent?: boolean; allow?: string[] }
}

/** The configuration with every default filled in. */
export interface FilesConfig {
  include: string[]
  ignore: string[]
  users: 'default' | string[]
  maxFileSize: number
  secretPaths: string[]
  detectSecretContent: boolean
  secretAllow: string[]
}

export function resolveConfig(raw: unknown, limits: Limits): FilesConfig {
  const input = raw ?? {}
  if (!saysNothing(input) && !Value.Check(FilesConfigSchema, input)) {
    const error = [...Value.Errors(FilesConfigSchema, input)][0]
    const words = schemaWords(FilesConfigSchema, error?.schemaPath) ?? error?.message
    throw new TwinSyncError('CONFIG_INVALID', `files: ${error?.instancePath || '/'} ${words ?? 'is not valid'}`, {
      nextStep: 'Fix the files section of the configuration file.',
    })
  }
  const config = input as FilesConfigInput
  return {
    include: [...(config.include ?? DEFAULT_INCLUDE)],
    ignore: [...(config.defaultIgnore === false ? [] : DEFAULT_IGNORE), ...(config.ignore ?? [])],
    users: config.users ?? 'default',
    maxFileSize: config.maxFileSize ?? limits.maxFileSize,
    secretPaths: [...(config.secrets?.paths ?? [])],
    detectSecretContent: config.secrets?.detectContent ?? true,
    secretAllow: [...(config.secrets?.allow ?? [])],
  }
}

/**
 * Whether a files section says nothing but the defaults: no key, or each key its default (as the
 * core fills them in for a missing section: `include` the default list, `ignore` and
 * `secrets.paths` and `secrets.allow` empty, `defaultIgnore` and `secrets.detectContent` true, `users` "default").
 * Such a section is valid (the defaults are; a test checks it), so typebox is not asked.
 *
 * Speed (issue 22, session 9): Value.Check of the defaults (16 include paths against their
 * pattern) was about 0.7 ms of every unchanged snapshot's CPU profile, on the minbase and the
 * services roots alike; any other section is checked as before.
 */
export function saysNothing(input: unknown): boolean {
  if (!isPlainObject(input)) return false
  for (const key of Object.keys(input)) {
    const value = input[key]
    if (key === 'include') {
      if (!Array.isArray(value) || value.length !== DEFAULT_INCLUDE.length || value.some((p, i) => p !== DEFAULT_INCLUDE[i])) return false
    } else if (key === 'ignore') {
      if (!Array.isArray(value) || value.length !== 0) return false
    } else if (key === 'defaultIgnore') {
      if (value !== true) return false
    } else if (key === 'users') {
      if (value !== 'default') return false
    } else if (key === 'secrets') {
      if (!isPlainObject(value)) return false
      for (const inner of Object.keys(value)) {
        const v = value[inner]
        if (inner === 'paths' || inner === 'allow' ? !Array.isArray(v) || v.length !== 0 : inner !== 'detectContent' || v !== true) return false
      }
    } else {
      return false
    }
  }
  return true
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return (proto === Object.prototype || proto === null) && Object.getOwnPropertySymbols(value).length === 0
}
