import { readlinkSync, realpathSync } from 'node:fs'
import { lstat, mkdir, realpath, rm, symlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Diagnostic } from '@twinsync/sdk'
import { SDK_VERSION, errorDiagnostic } from '@twinsync/sdk/light'

export const SDK_PACKAGE = '@twinsync/sdk'

/** What the host needs to know of an oclif plugin to share its SDK with it. */
export interface PluginInfo {
  name: string
  version: string
  root: string
  pjson: { peerDependencies?: Record<string, string>; dependencies?: Record<string, string> }
}

let hostSdk: Promise<string> | undefined

/**
 * The directory of the host's own @twinsync/sdk, symlinks resolved. Asked synchronously, as
 * shareSdk's check of the link is: a run with a plugin then starts no libuv thread pool for
 * these two calls alone (four threads; an unchanged snapshot without a plugin uses none).
 */
export function hostSdkDir(): Promise<string> {
  hostSdk ??= (async () => {
    // The package directory (its entry may be a bundle in a subfolder).
    return realpathSync.native(dirname(sdkPackageFile()))
  })()
  return hostSdk
}

/**
 * The host SDK's package.json, as a path. Speed (issue 22, session 21): in the CLI's CommonJS
 * bundle `require.resolve` answers it with the file bin/start.js found (code-cache.js's
 * `provideFile`), without a URL: `import.meta.resolve` there is the bundle's, which makes a
 * `file:` URL of that path, and `fileURLToPath` read it back, and Node compiles its URL functions
 * for that alone. An unchanged snapshot of the minbase root with the dnf example plugin
 * installed: this lookup 1.94 → 0.02 M instructions (callgrind, dumps at each side of it). Run
 * as an ES module (tsx, the tests) there is no `require`: `import.meta.resolve` as before.
 */
function sdkPackageFile(): string {
  const specifier = `${SDK_PACKAGE}/package.json`
  return typeof require === 'function' ? require.resolve(specifier) : fileURLToPath(import.meta.resolve(specifier))
}

function readlinkOrNone(path: string): string | undefined {
  try {
    return readlinkSync(path)
  } catch {
    return undefined
  }
}

/**
 * The @twinsync/sdk range a plugin declares (peerDependencies first), when it is a semver range.
 * A `file:` or workspace spec in dependencies says nothing about compatibility: undefined.
 */
export async function declaredSdkRange(plugin: PluginInfo): Promise<string | undefined> {
  const range = plugin.pjson.peerDependencies?.[SDK_PACKAGE] ?? plugin.pjson.dependencies?.[SDK_PACKAGE]
  if (range === undefined) return undefined
  const { validRange } = await import('semver')
  return validRange(range) === null ? undefined : range
}

/**
 * Ranges that accept this host's SDK on their face: the usual `^0.1.0` a plugin made for this
 * SDK declares. Checked without loading semver, which every command that loads providers would
 * otherwise pay for (it runs before any plugin loads).
 */
const PLAINLY_ACCEPTED = new Set([SDK_VERSION, `^${SDK_VERSION}`, `~${SDK_VERSION}`, `>=${SDK_VERSION}`, `=${SDK_VERSION}`])

/** A diagnostic when the plugin's declared range does not accept this host's SDK. */
export async function sdkRangeProblem(plugin: PluginInfo): Promise<Diagnostic | undefined> {
  const declared = plugin.pjson.peerDependencies?.[SDK_PACKAGE] ?? plugin.pjson.dependencies?.[SDK_PACKAGE]
  if (declared !== undefined && PLAINLY_ACCEPTED.has(declared.trim())) return undefined
  const range = await declaredSdkRange(plugin)
  if (range === undefined) return undefined
  const { satisfies } = await import('semver')
  if (satisfies(SDK_VERSION, range, { includePrerelease: true })) return undefined
  return errorDiagnostic(
    'PLUGIN_SDK_MISMATCH',
    `Plugin ${plugin.name} ${plugin.version} needs ${SDK_PACKAGE} ${range}, but this TwinSync has ${SDK_VERSION}; it was not loaded`,
    {
      provider: plugin.name,
      detail:
        `Next step: install a version of the plugin made for ${SDK_PACKAGE} ${SDK_VERSION} (\`twinsync plugins install ${plugin.name}@<version>\`), ` +
        `or remove it with \`twinsync plugins uninstall ${plugin.name}\`.`,
    },
  )
}

/**
 * Make the plugin's `import '@twinsync/sdk'` load the host's own copy: a symlink
 * `<plugin>/node_modules/@twinsync/sdk` → the host's SDK, found first by Node's resolution.
 * One SDK and one typebox in the process, whatever the plugin installed for itself; a check
 * costs one readlink when the link is already there. Returns a diagnostic when it cannot be
 * made and the plugin would load another copy.
 */
export async function shareSdk(plugin: PluginInfo): Promise<Diagnostic | undefined> {
  const host = await hostSdkDir()
  const link = join(plugin.root, 'node_modules', SDK_PACKAGE)
  if (readlinkOrNone(link) === host) return undefined
  try {
    if ((await lstat(link).catch(() => undefined)) !== undefined) await rm(link, { recursive: true, force: true })
    await mkdir(dirname(link), { recursive: true })
    await symlink(host, link, 'dir')
    return undefined
  } catch (error) {
    // Still fine when the plugin resolves the host's copy anyway (it lives in the host's tree).
    const resolved = await realpath(dirname(dirname(createRequire(join(plugin.root, 'package.json')).resolve(SDK_PACKAGE)))).catch(() => undefined)
    if (resolved === host) return undefined
    return errorDiagnostic('PLUGIN_SDK_LINK', `Plugin ${plugin.name}: cannot link ${link} to TwinSync's own ${SDK_PACKAGE}: ${(error as Error).message}; it was not loaded`, {
      provider: plugin.name,
      detail: `Next step: make ${dirname(link)} writable for this user, or reinstall the plugin with \`twinsync plugins install\`.`,
    })
  }
}
