import { statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Hook } from '@oclif/core'
import { TwinSyncError } from '@twinsync/sdk/errors'
import { formatUserError } from '../base-command.js'

const INSTALL_IDS = new Set(['plugins:install', 'plugins:add'])

/**
 * `twinsync plugins install` takes what npm takes: an npm name, a `file:` URL, a tarball path
 * (`./x.tgz`, `/abs/x.tgz`) and a directory. oclif's installer reads any argument with a slash
 * as a GitHub repository; here a local path becomes an absolute `file:` URL before it parses.
 * Plugins get TwinSync's own @twinsync/sdk, so npm is told not to fetch peer dependencies.
 */
const hook: Hook<'preparse'> = async function ({ argv, options }) {
  const id = (options.context as { id?: string } | undefined)?.id
  if (id === undefined || !INSTALL_IDS.has(id)) return argv
  process.env.npm_config_legacy_peer_deps = 'true'
  const out: string[] = []
  for (const arg of argv) out.push(arg.startsWith('-') ? arg : await localSource(arg, argv.includes('--json')))
  return out
}
export default hook

/** The argument as npm must see it: local paths as absolute `file:` URLs, anything else as is. */
export async function localSource(arg: string, json = false): Promise<string> {
  let path: string | undefined
  if (arg.startsWith('file:')) path = arg.startsWith('file://') ? new URL(arg).pathname : arg.slice('file:'.length)
  else if (looksLikePath(arg)) path = arg
  if (path === undefined) return arg
  const absolute = isAbsolute(path) ? path : resolve(path.replace(/^~(?=\/)/, process.env.HOME ?? '~'))
  // Synchronous: this hook is in every command's start-up file, and node:fs/promises is a module
  // (with readline's) that a command's help would load for nothing else.
  let found: ReturnType<typeof statSync>
  try {
    found = statSync(absolute)
  } catch {
    found = undefined
  }
  if (found === undefined || !(found.isFile() || found.isDirectory())) {
    const error = new TwinSyncError('PLUGIN_SOURCE_MISSING', `${arg}: no such plugin tarball or directory (${absolute})`, {
      nextStep: 'Give the path of a tarball made by `npm pack` (./twinsync-plugin-x-1.0.0.tgz), a plugin directory, or an npm package name.',
    })
    if (json) process.stdout.write(JSON.stringify({ error: error.toJSON() }, null, 2) + '\n')
    else process.stderr.write(formatUserError(error))
    process.exit(2)
  }
  return pathToFileURL(absolute).href
}

/** What npm reads as a local path: ./ ../ / ~/, or a tarball name. */
function looksLikePath(arg: string): boolean {
  return /^(\.{1,2}\/|\/|~\/)/.test(arg) || arg === '.' || arg === '..' || /\.(tgz|tar\.gz|tar)$/.test(arg)
}
