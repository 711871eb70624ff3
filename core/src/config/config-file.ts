import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { TwinSyncError, schemaWords } from '@twinsync/sdk/light'
import type { TSchema } from 'typebox'
// The schema (typebox) is imported when a file sets something: a run with no configuration, or
// one that sets nothing, loads no typebox (see @twinsync/sdk/light).
import type { CoreConfig } from './config-schema.js'
import { applyDefaults } from './schema-defaults.js'
import { twinsyncLine, type CommandTarget } from '../plan/command-text.js'

/**
 * The `twinsync config` line a CONFIG_INVALID names, for the configuration file at `path`: the
 * file that did not load is its --config, and the run's --root and --repo are the flags as given
 * on the command line (known before any configuration is; a `repo:` the file sets is not, as the
 * file did not load). The one rule, twinsyncLine.
 */
export type ConfigLine = (path: string) => string

/** A ConfigLine with the command line's --root and --repo (`flags`; none: this machine, the default twin). */
export function configLine(flags: Omit<CommandTarget, 'config'> = { root: '/' }): ConfigLine {
  return (path) => twinsyncLine(['config'], { ...flags, config: path })
}

export interface LoadedConfig {
  /** The file read, or undefined when there is none and defaults apply. */
  path: string | undefined
  values: CoreConfig & Record<string, unknown>
}

/** /etc/twinsync/config.yaml for root, ~/.config/twinsync/config.yaml for anyone else. */
export function defaultConfigPath(uid = process.getuid?.() ?? 0, env = process.env): string {
  if (uid === 0) return '/etc/twinsync/config.yaml'
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'twinsync', 'config.yaml')
}

/**
 * Read and validate the config file. An explicitly named file must exist; the default one may
 * be missing. Problems name the file, the line when YAML is broken, and the key when a value is.
 */
export async function loadConfigFile(explicitPath: string | undefined, line: ConfigLine = configLine()): Promise<LoadedConfig> {
  const path = explicitPath ?? defaultConfigPath()
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (explicitPath === undefined && code === 'ENOENT') return { path: undefined, values: {} }
    throw new TwinSyncError('CONFIG_UNREADABLE', `Cannot read the configuration file ${path}: ${(error as Error).message}`, {
      nextStep: explicitPath === undefined ? `Fix the permissions of ${path}.` : 'Check the --config path.',
      details: { path },
    })
  }
  if (holdsNothing(text)) return { path, values: {} }
  const { parseDocument } = await import('yaml')
  const doc = parseDocument(text, { prettyErrors: true })
  const yamlError = doc.errors[0]
  if (yamlError !== undefined) {
    const line = yamlError.linePos?.[0]
    throw new TwinSyncError('CONFIG_UNREADABLE', `${path}${line ? `:${line.line}:${line.col}` : ''}: ${yamlError.message.split('\n')[0]}`, {
      nextStep: `Fix the YAML syntax in ${path}.`,
      details: { path, ...(line ? { line: line.line, column: line.col } : {}) },
    })
  }
  let values: unknown
  try {
    values = doc.toJS() ?? {} // an alias bomb is refused here (the yaml library's alias limit)
  } catch (error) {
    throw new TwinSyncError('CONFIG_UNREADABLE', `${path}: ${(error as Error).message}`, {
      nextStep: `Write ${path} without YAML aliases (&name / *name).`,
      details: { path },
    })
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw configInvalid(path, '', 'the file must hold a mapping of keys to values', line)
  }
  if (Object.keys(values).length > 0) await checkAgainst((await import('./config-schema.js')).CoreConfig, values, path, line)
  return { path, values: values as LoadedConfig['values'] }
}

/**
 * Whether the file holds no configuration at all: only blank lines, comments and at most one
 * empty mapping `{}` (what yaml makes of it is then an empty configuration, checked against the
 * yaml library in core/test/config-file.test.ts). Anything else, or any doubt (a line break
 * other than LF or CRLF, a character outside ASCII's blanks), is left to yaml.
 *
 * Speed (issue 22, session 9): such a file (a packaged template of comments, or the `{}` of a
 * config that sets nothing) no longer loads the yaml library: its parser and its functions in
 * the command's code cache (twinsync-lib.cjs's cache of an unchanged snapshot 858 → 728 KB).
 */
export function holdsNothing(text: string): boolean {
  let mapping = false
  for (const raw of text.replace(/^\ufeff/, '').split(/\r?\n/)) {
    // A comment starts with `#` at the line's start or after a blank (YAML's rule).
    const line = raw.replace(/(^|[ \t])#.*$/, '').replace(/^[ \t]+|[ \t]+$/g, '')
    if (line === '') continue
    if (!mapping && /^\{[ \t]*\}$/.test(line)) {
      mapping = true
      continue
    }
    return false
  }
  return true
}

/**
 * Check each provider section against the provider's schema, and refuse any top-level key that
 * is neither TwinSync's own nor a loaded provider's name. A provider's `configSchema` is read only
 * when the file has its section: a plugin may build its schemas when first read (a getter over
 * lazySchema), and a run whose file does not name it never builds them (typebox not loaded).
 */
export async function checkProviderSections(
  config: LoadedConfig,
  /** The loaded providers by name (the ProviderRegistry's). */
  providers: ReadonlyMap<string, { readonly configSchema?: TSchema }>,
  /** The `twinsync config` line of a refusal (configLine; the ProviderRegistry's: the run's target). */
  line: ConfigLine = configLine(),
): Promise<void> {
  // A configuration that sets nothing has nothing to check: config-schema.ts (typebox) not loaded.
  if (Object.keys(config.values).length === 0) return
  const path = config.path ?? '(defaults)'
  const { CORE_CONFIG_KEYS } = await import('./config-schema.js')
  for (const [key, value] of Object.entries(config.values)) {
    if ((CORE_CONFIG_KEYS as readonly string[]).includes(key)) continue
    const provider = providers.get(key)
    if (provider === undefined) {
      throw new TwinSyncError('CONFIG_INVALID', `${path}: unknown key "${key}"`, {
        nextStep: `Remove "${key}" or correct its spelling; known keys are ${[...CORE_CONFIG_KEYS, ...providers.keys()].join(', ')}.`,
        details: { path, key },
      })
    }
    const schema = provider.configSchema
    // Defaults first, the way the provider will see its section: a schema with required keys
    // that have defaults accepts a section that leaves them out.
    if (schema !== undefined) await checkAgainst(schema, applyDefaults(schema, value ?? {}), path, line, `/${key}`)
    else refuseSettings(key, value, path, line)
  }
}

/** A provider without a config schema takes no settings: its section may only be empty. */
function refuseSettings(key: string, value: unknown, path: string, line: ConfigLine): void {
  if (value === null || value === undefined) return
  if (typeof value !== 'object' || Array.isArray(value)) throw configInvalid(path, key, `the ${key} provider takes no settings`, line)
  const first = Object.keys(value)[0]
  if (first !== undefined) throw configInvalid(path, `${key}.${first}`, `unknown key (the ${key} provider takes no settings)`, line)
}

/** typebox's value module is loaded only when there is a configuration to check: it is slow to load. */
async function checkAgainst(schema: TSchema, value: unknown, path: string, line: ConfigLine, prefix = ''): Promise<void> {
  const { Value } = await import('typebox/value')
  if (Value.Check(schema, value)) return
  const errors = [...Value.Errors(schema, value)]
  // An unknown key shows up as a "schema is false" error at its own path: the most precise one.
  const first = errors.find((e) => e.keyword === 'boolean') ?? errors.find((e) => e.keyword !== 'additionalProperties') ?? errors[0]
  const key = (prefix + (first?.instancePath ?? '')).replace(/^\//, '').replace(/\//g, '.')
  const message = first?.keyword === 'boolean' ? 'unknown key' : (schemaWords(schema, first?.schemaPath) ?? first?.message ?? 'invalid value')
  throw configInvalid(path, key, message, line)
}

function configInvalid(path: string, key: string, message: string, line: ConfigLine): TwinSyncError {
  return new TwinSyncError('CONFIG_INVALID', `${path}: ${key ? `"${key}": ` : ''}${message}`, {
    nextStep: `Correct ${key ? `"${key}"` : 'the file'} in ${path}; \`${line(path)}\` prints the effective configuration.`,
    details: { path, key },
  })
}
