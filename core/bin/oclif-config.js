'use strict'
// Speed: what oclif loads before a command runs. oclif's Config.load finds every plugin: the
// root (TwinSync), the core plugins its package.json names (@oclif/plugin-plugins), and the
// user's (`twinsync plugins install`, listed in <data dir>/package.json), each plugin's
// package.json and manifest read with asynchronous calls. For a command of TwinSync's own, when
// the user has no plugin, only the root matters: no core plugin has a command or a hook such a
// run reaches (core/scripts/bundle.mjs checks the core plugins' at build time and leaves out of
// OWN_WORDS any first word they share, `plugins`). Then oclif gets the root plugin, loaded here,
// as its only plugin (`plugins` of its load options: oclif looks for no other), and runs
// everything else as always (its hooks, help, the command). Measured (session 7, CPU of the load
// alone in a process, medians of 9): Config.load 9.2 ms with every plugin, 2.9 ms with the root
// alone; @oclif/plugin-plugins' load (finding it through require.resolve, two files read) is
// most of the difference.
//
// The user's plugins, when there are any, are loaded by oclif's own PluginLoader (bundled beside
// oclif, core/scripts/bundle.mjs) from the same data folder and given to oclif with TwinSync's:
// a plugin's commands, hooks and providers are found as before, and a plugin costs what its own
// load costs, not the core plugins' load too. Any other run — a plugin that fails to load (or a
// data folder's package.json that cannot be read), a command or topic that is not TwinSync's own
// (`plugins install`, an unknown word, `--help` alone), another platform — loads as oclif always
// does.
const { readFileSync } = require('node:fs')
const { homedir, tmpdir } = require('node:os')
const { join } = require('node:path')

/**
 * oclif's data folder on Linux, as its Config works it out: the bin's `<BIN>_DATA_DIR` (and its
 * aliases'), else $XDG_DATA_HOME/<dirname>, else ~/.local/share/<dirname>.
 * core/test/oclif-config.test.ts checks it against Config.dataDir.
 */
function dataDirOf(pjson, env = process.env) {
  const oclif = pjson.oclif ?? {}
  const bins = [oclif.bin || pjson.name, ...(oclif.binAliases ?? [])].filter(Boolean)
  const key = bins.map((bin) => `${bin.replaceAll('@', '').replaceAll(/[/-]/g, '_')}_DATA_DIR`.toUpperCase()).find((k) => env[k])
  if (key !== undefined) return env[key]
  const home = env.HOME || homedir() || tmpdir()
  return join(env.XDG_DATA_HOME || join(home, '.local/share'), oclif.dirname || pjson.name)
}

/**
 * Whether oclif would load a plugin of the user's: <dataDir>/package.json lists one. A file that
 * is there but cannot be read or parsed counts as one (oclif then warns about it itself).
 */
function hasUserPlugins(dataDir) {
  let text
  try {
    text = readFileSync(join(dataDir, 'package.json'), 'utf8')
  } catch (error) {
    return error.code !== 'ENOENT' && error.code !== 'ENOTDIR'
  }
  let found
  try {
    found = JSON.parse(text)
  } catch {
    return true
  }
  if (found === null || typeof found !== 'object') return true
  // oclif: no `oclif.plugins` is none.
  const plugins = found.oclif?.plugins
  return plugins !== undefined && plugins !== null && (!Array.isArray(plugins) || plugins.length > 0)
}

/**
 * The load options for oclif's `execute`: the root plugin alone (loaded here) when `argv` runs a
 * command of TwinSync's own and the user has no plugin, else TwinSync's folder and package.json
 * (oclif finds every plugin). `ownWords`: the first words of TwinSync's commands and topics no
 * core plugin shares (twinsync.cjs's OWN_WORDS).
 */
async function loadOptions(oclif, root, argv, ownWords, known = rootAndPlugins(root)) {
  const { pjson } = known
  const o = pjson.oclif ?? {}
  const own = process.platform === 'linux' && argv.length > 0 && ownWords.includes(argv[0]) && o.jitPlugins === undefined && o.devPlugins === undefined
  if (!own) return { root, pjson }
  const plugin = new oclif.Plugin({ root, pjson, isRoot: true, type: 'core' })
  await plugin.load()
  const plugins = new Map([[plugin.name, plugin]])
  const dataDir = dataDirOf(pjson)
  if (known.userPlugins) {
    // The user's plugins (and theirs), found and loaded by oclif's own loader as a full load
    // does; any plugin that fails to load: a full load, which warns about it as oclif does.
    const loader = new oclif.__twinsyncPluginLoader({ root })
    loader.plugins = plugins
    await loader.loadUserPlugins({ dataDir })
    if (loader.errors.length > 0) return { root, pjson }
  }
  return { root, pjson, plugins }
}

/**
 * TwinSync's package.json (`root`'s) and whether the user has a plugin (hasUserPlugins of its data
 * folder): read once a run, before any bundle loads (bin/start.js names the code caches by it, see
 * there), and handed to loadOptions.
 */
function rootAndPlugins(root) {
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  return { pjson, userPlugins: hasUserPlugins(dataDirOf(pjson)) }
}

exports.dataDirOf = dataDirOf
exports.hasUserPlugins = hasUserPlugins
exports.loadOptions = loadOptions
exports.rootAndPlugins = rootAndPlugins
