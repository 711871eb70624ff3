// Speed: the CLI as one bundled file, and the SDK as one bundle (run by `npm run build`, after tsc).
//
// Without it, `twinsync snapshot` loaded about 1,290 JavaScript modules, 680 of them typebox's
// and 100 execa's, each resolved, stat'ed and compiled by Node's ESM loader: measured on the
// shared 2-core machine, importing typebox and its value module alone took 220–340 ms, their
// bundle 30–60 ms. Now a command loads oclif (not bundled: it is the runtime that finds
// commands), core/bundle/twinsync.js and the SDK's bundle (a few chunks).
//
// - core/bundle/twinsync.js holds every command and hook (oclif's "explicit" command discovery,
//   see core/package.json), the built-in plugins and the libraries they use. It is not split:
//   code a command imports lazily (its services, the TUI) stays in the file but runs only when
//   imported, and CommonJS libraries keep their named exports.
// - @twinsync/sdk stays outside it: third-party plugins must get the host's single instance
//   (see src/providers/plugin-sdk.ts). sdk/bundle/ is the SDK bundled with its libraries
//   (split, so `@twinsync/sdk/errors` and the rest share one copy of each module), and typebox
//   is imported from there by the host too ('typebox' → '@twinsync/sdk/typebox'): one typebox.
// - Also kept outside: oclif and its plugins, and @octokit/rest (only for GitHub commands).
//
// The tsc output in dist/ stays what tests, types and the packages' `main` use.
import { build } from 'esbuild'
import { readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const core = join(dirname(fileURLToPath(import.meta.url)), '..')
const sdk = join(core, '..', 'sdk')

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  // Bundled CommonJS libraries call require() for Node's own modules.
  banner: { js: "import { createRequire as __twinsyncRequire } from 'node:module'; const require = __twinsyncRequire(import.meta.url);" },
}

await build({
  ...common,
  entryPoints: ['index', 'errors', 'domains', 'conformance-kit', 'typebox', 'typebox-value'].map((name) => join(sdk, 'dist', `${name}.js`)),
  outdir: join(sdk, 'bundle'),
  splitting: true,
})

/** Every command file under dist/commands, by oclif id ("remote/set.js" → "remote:set"). */
function commandFiles() {
  const dir = join(core, 'dist', 'commands')
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => ({ id: f.slice(0, -'.js'.length).split('/').join(':'), path: join(dir, f) }))
}

const HOOKS = { commandNotFound: 'command-not-found.js', pluginSource: 'plugin-source.js' }
const commands = commandFiles()
const entry = [
  ...commands.map((c, i) => `import C${i} from './${relative(core, c.path)}'`),
  `export const COMMANDS = {\n${commands.map((c, i) => `  '${c.id}': C${i},`).join('\n')}\n}`,
  ...Object.entries(HOOKS).map(([name, file]) => `export { default as ${name} } from './dist/hooks/${file}'`),
].join('\n')

/** typebox from the SDK's bundle, the SDK itself as installed: one copy of each in the process. */
const shared = {
  name: 'shared-with-plugins',
  setup(b) {
    b.onResolve({ filter: /^typebox(\/value)?$/ }, (args) => ({ path: args.path === 'typebox' ? '@twinsync/sdk/typebox' : '@twinsync/sdk/typebox/value', external: true }))
    b.onResolve({ filter: /^@twinsync\/sdk(\/.*)?$/ }, (args) => ({ path: args.path, external: true }))
  },
}

/** ink imports React's devtools (not installed) only when DEV=true: that import fails as ink expects. */
const noDevtools = {
  name: 'no-react-devtools',
  setup(b) {
    b.onResolve({ filter: /^\.\/devtools\.js$/ }, (args) => (/[\\/]ink[\\/]/.test(args.importer) ? { path: 'devtools', namespace: 'no-devtools' } : undefined))
    b.onLoad({ filter: /.*/, namespace: 'no-devtools' }, () => ({ contents: "throw new Error('react-devtools-core is not part of the TwinSync bundle')", loader: 'js' }))
  },
}

await build({
  ...common,
  stdin: { contents: entry, resolveDir: core, sourcefile: 'twinsync-entry.js', loader: 'js' },
  outfile: join(core, 'bundle', 'twinsync.js'),
  external: ['@oclif/core', '@oclif/plugin-plugins', '@octokit/rest'],
  // React's production build for the TUI: the development one checks every render and adds a
  // performance timeline entry per render (about 1,000 per TUI session), and is what a bundle
  // gets when nothing says otherwise. The bundle went from 3.40 MB to 2.67 MB.
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [shared, noDevtools],
})
console.log(`bundle: core/bundle/twinsync.js (${commands.length} commands), sdk/bundle/`)
