import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { SDK_VERSION, TwinSyncError, codePrefix } from '@twinsync/sdk/light'
import { hostSdkDir } from '../providers/plugin-sdk.js'

export interface ScaffoldResult {
  dir: string
  name: string
  provider: string
  files: string[]
  nextSteps: string[]
}

const PACKAGE = /^(@[a-z0-9][a-z0-9._-]*\/)?twinsync-plugin-([a-z][a-z0-9-]*)$/

/** A plugin's build (as examples/twinsync-plugin-dnf's): `tsc` checks, esbuild writes dist/hook.cjs. */
const PLUGIN_BUILD =
  'tsc -p tsconfig.json --noEmit && esbuild src/hook.ts --bundle --platform=node --target=node20 --format=cjs --external:@twinsync/sdk --log-level=warning --outfile=dist/hook.cjs'

/**
 * A new provider plugin that builds, passes the conformance kit and installs: a small
 * applicable provider over `/etc/<name>/items` (one item a line) to replace with the real
 * domain. `twinsync plugins new` writes it.
 */
export async function scaffoldPlugin(name: string, dir?: string): Promise<ScaffoldResult> {
  const match = PACKAGE.exec(name)
  if (match === null) {
    throw new TwinSyncError('USAGE', `"${name}" is not a plugin package name`, {
      nextStep: 'Name it twinsync-plugin-NAME (lower case letters, digits, dashes), e.g. `twinsync plugins new twinsync-plugin-flatpak`.',
    })
  }
  const provider = match[2] as string
  const target = resolve(dir ?? name.replace(/^@[^/]+\//, ''))
  const existing = await readdir(target).catch(() => undefined)
  if (existing !== undefined && existing.length > 0) {
    throw new TwinSyncError('USAGE', `${target} exists and is not empty`, { nextStep: 'Choose another place with --dir, or remove that folder first.' })
  }
  // First, so a failure leaves nothing behind: the SDK the plugin builds and tests against.
  const sdk = await packSdk()
  const files = templates(name, provider)
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(target, path, '..'), { recursive: true })
      await writeFile(join(target, path), text)
    }
    await mkdir(join(target, 'vendor'), { recursive: true })
    await copyFile(sdk.tarball, join(target, SDK_TARBALL))
  } finally {
    await rm(sdk.dir, { recursive: true, force: true })
  }
  return {
    dir: target,
    name,
    provider,
    files: [...Object.keys(files), SDK_TARBALL],
    nextSteps: [`cd ${target}`, 'npm install', 'npm test            # the conformance kit', 'npm run build && npm pack', `twinsync plugins install ./${name.replace(/^@/, '').replace('/', '-')}-0.1.0.tgz`, 'twinsync providers'],
  }
}

/**
 * Where the plugin's copy of TwinSync's SDK goes, as its devDependency (`file:`). The SDK is
 * not on the npm registry: with a registry range there, an author's first `npm install` outside
 * TwinSync's repository failed with E404 (session 18). The tarball is the SDK of the TwinSync
 * that wrote the plugin, packed as npm packs it; the plugin's own tarball leaves it out (`files`),
 * and the optional peer dependency keeps a plugin install from fetching any SDK.
 */
const SDK_TARBALL = `vendor/twinsync-sdk-${SDK_VERSION}.tgz`

/** TwinSync's own SDK packed by npm (`npm pack`, its `files` only) into a temporary folder. */
async function packSdk(): Promise<{ dir: string; tarball: string }> {
  const from = await hostSdkDir()
  const dir = await mkdtemp(join(tmpdir(), 'twinsync-sdk-pack-'))
  try {
    await promisify(execFile)('npm', ['pack', from, '--pack-destination', dir, '--ignore-scripts', '--silent'], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })
    return { dir, tarball: join(dir, `twinsync-sdk-${SDK_VERSION}.tgz`) }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    const said = (error as { stderr?: string }).stderr?.trim() || (error as Error).message
    throw new TwinSyncError('PLUGIN_SDK_PACK_FAILED', `npm could not pack TwinSync's SDK (${from}) for the new plugin: ${said.split('\n').slice(-3).join(' ')}`, {
      nextStep: 'A plugin is built with npm: install it (it comes with Node.js), then run `twinsync plugins new` again. Nothing was written.',
    })
  }
}

function templates(name: string, provider: string): Record<string, string> {
  const cls = provider.replace(/(^|-)([a-z0-9])/g, (_, _d: string, c: string) => c.toUpperCase()) + 'Provider'
  // The provider's own codes start with its name in capitals (the SDK's codePrefix, as the host judges them).
  const prefix = codePrefix(provider)
  const table = `${prefix}CODES`
  const sdkRange = `^${SDK_VERSION}`
  const pkg = {
    name,
    version: '0.1.0',
    description: `TwinSync provider: ${provider}`,
    type: 'module',
    license: 'MIT',
    engines: { node: '>=20.19' },
    keywords: ['twinsync-plugin'],
    files: ['dist/hook.cjs', 'README.md'],
    // The build docs/plugin-authoring.md recommends: types checked, the sources bundled into one
    // CommonJS file with the SDK left out, which TwinSync compiles from its code cache.
    scripts: { build: PLUGIN_BUILD, prepack: 'npm run build', test: "mocha --node-option import=tsx 'test/**/*.test.ts'" },
    peerDependencies: { '@twinsync/sdk': sdkRange },
    peerDependenciesMeta: { '@twinsync/sdk': { optional: true } },
    devDependencies: { '@twinsync/sdk': `file:${SDK_TARBALL}`, '@types/mocha': '^10.0.10', '@types/node': '^20.19.0', esbuild: '^0.28.2', mocha: '^12.0.3', tsx: '^4.20.0', typescript: '~5.9.3' },
    oclif: { hooks: { 'twinsync:providers': './dist/hook.cjs' } },
  }
  const tsconfig = {
    '//': 'Keep skipLibCheck: true. Checking every .d.ts of the SDK\'s dependencies (skipLibCheck: false) turns a check of a few files into many seconds and hundreds of MB.',
    compilerOptions: {
      target: 'ES2023',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      declaration: false,
      types: ['node'],
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  }
  return {
    'package.json': JSON.stringify(pkg, null, 2) + '\n',
    'tsconfig.json': JSON.stringify(tsconfig, null, 2) + '\n',
    'src/hook.ts': `import type { ProvidersHookResult } from '@twinsync/sdk'
import { ${cls} } from './provider.js'

/** TwinSync calls this \`twinsync:providers\` hook (package.json, "oclif.hooks") at start-up. */
export default async function providers(): Promise<ProvidersHookResult> {
  return { providers: [new ${cls}()] }
}
`,
    'src/codes.ts': `/**
 * This provider's own codes: those its diagnostics carry beyond the SDK's (\`twinsync describe\`
 * lists the SDK's: use one of those where it says what you mean, NAME_INVALID, TWIN_INVALID…).
 * Each starts with the provider's name in capitals (${prefix}) and says what it means and the next
 * step. The provider declares them (\`codes\`); \`twinsync providers --codes\` and \`twinsync describe\`
 * list them with the plugin, and TwinSync (and the conformance kit) names a code that breaks the
 * rule. A code is stable: scripts match it, so rename none once released.
 */
export const ${table} = {
  ${prefix}ITEM_IGNORED: 'A line of /etc/${provider}/items is not an item name (lower case letters, digits, ".", "_", "+", "-"): it is left out of the twin and kept on the machine as it is; correct or remove the line',
} as const
`,
    'src/provider.ts': `import {
  TwinSyncError,
  Type,
  errorDiagnostic,
  fingerprint,
  lazySchema,
  schemaProblem,
  stableStringify,
  warningDiagnostic,
  type ApplicableProvider,
  type ApplyRequest,
  type ApplyResult,
  type Change,
  type ChangeResult,
  type CollectRequest,
  type CollectResult,
  type DetectRequest,
  type DetectResult,
  type DiffRequest,
  type DiffResult,
  type HostReader,
  type LoadRequest,
  type LoadResult,
  type Static,
} from '@twinsync/sdk'
import { ${table} } from './codes.js'

// Replace this example domain (the items listed in /etc/${provider}/items, one a line) with yours.
const LIVE_PATH = '/etc/${provider}/items'
const TWIN_PATH = 'system/${provider}.json'
/** Names from the twin are input: only these characters ever reach the machine. */
const NAME = /^[a-z0-9][a-z0-9._+-]{0,99}$/

// Schemas are built when first used (\`State()\`), not as this module loads: building one loads
// typebox, and TwinSync loads the plugin on every command, most of which check nothing against
// them (docs/plugin-authoring.md, "What a plugin costs").
export const State = lazySchema(() => Type.Object({ items: Type.Array(Type.String()) }, { additionalProperties: false }))
export type State = Static<ReturnType<typeof State>>

/** This provider's section of TwinSync's config file; defaults are filled in before validation. */
export const Config = lazySchema(() => Type.Object({ maxItems: Type.Integer({ minimum: 1, default: 1000 }) }, { additionalProperties: false }))

async function readLive(host: HostReader): Promise<State> {
  const text = (await host.readTextIfExists(LIVE_PATH)) ?? ''
  return { items: [...new Set(text.split('\\n').map((l) => l.trim()).filter(Boolean))].sort() }
}

export class ${cls} implements ApplicableProvider<State> {
  readonly name = '${provider}'
  readonly version = '0.1.0'
  readonly category = 'packages' as const
  readonly description = 'Example: the items in ${'${LIVE_PATH}'}'
  readonly twinPaths = [TWIN_PATH]
  /** Its own codes, with what each means (codes.ts). */
  readonly codes = ${table}
  // Getters: TwinSync reads a schema only when it checks something against it.
  get stateSchema() {
    return State()
  }
  get configSchema() {
    return Config()
  }

  async detect({ ctx }: DetectRequest): Promise<DetectResult> {
    const found = (await ctx.host.stat(LIVE_PATH)) !== undefined
    return { detected: found, reason: found ? \`found \${LIVE_PATH}\` : \`no \${LIVE_PATH}\`, diagnostics: [] }
  }

  async collect({ ctx }: CollectRequest): Promise<CollectResult<State>> {
    const live = await readLive(ctx.host)
    // A line that is no item name stays out of the twin, and is said (apply keeps it in the file).
    const state = { items: live.items.filter((i) => NAME.test(i)) }
    const diagnostics = live.items
      .filter((i) => !NAME.test(i))
      .map((i) => warningDiagnostic('${prefix}ITEM_IGNORED', \`\${LIVE_PATH} lists \${JSON.stringify(i)}, which is not an item name: it is left out of the twin\`, { path: LIVE_PATH, provider: this.name }))
    return { state, documents: [{ path: TWIN_PATH, content: stableStringify(state) }], diagnostics }
  }

  async load({ twin }: LoadRequest): Promise<LoadResult<State>> {
    const text = await twin.readText(TWIN_PATH)
    if (text === undefined) return { state: undefined, diagnostics: [] }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return { state: undefined, diagnostics: [errorDiagnostic('TWIN_INVALID', \`\${TWIN_PATH} is not valid JSON\`, { path: TWIN_PATH })] }
    }
    const problem = await schemaProblem(State(), parsed)
    if (problem !== undefined) return { state: undefined, diagnostics: [errorDiagnostic('TWIN_INVALID', \`\${TWIN_PATH} \${problem}\`, { path: TWIN_PATH })] }
    return { state: parsed as State, diagnostics: [] }
  }

  /** Pure: the changes that turn actual into desired. */
  diff({ desired, actual }: DiffRequest<State>): DiffResult {
    const changes: Change[] = []
    const diagnostics = desired.items.filter((i) => !NAME.test(i)).map((i) => errorDiagnostic('NAME_INVALID', \`The twin lists an invalid item: \${JSON.stringify(i)}\`, { path: TWIN_PATH }))
    const change = (operation: 'add' | 'remove', item: string): Change => ({
      id: \`${provider}:\${operation}:\${item}\`,
      provider: '${provider}',
      category: 'packages',
      operation,
      resource: item,
      summary: \`\${operation} \${item}\`,
      risk: operation === 'remove' ? 'high' : 'low',
      ...(operation === 'remove' ? { removal: true } : {}),
      liveFingerprint: fingerprint(actual.items.includes(item) ? item : undefined),
      data: { item },
    })
    for (const item of desired.items) if (NAME.test(item) && !actual.items.includes(item)) changes.push(change('add', item))
    for (const item of actual.items) if (!desired.items.includes(item)) changes.push(change('remove', item))
    return { changes, diagnostics }
  }

  async apply({ changes, ctx, onResult }: ApplyRequest): Promise<ApplyResult> {
    // Every name is checked before anything runs; then the live state is read again.
    const steps = changes.map((c) => {
      const item = (c.data as { item?: unknown } | undefined)?.item
      if (typeof item !== 'string' || !NAME.test(item)) throw new TwinSyncError('NAME_INVALID', \`Not a valid item: \${JSON.stringify(item)}\`)
      return { change: c, item, add: c.operation === 'add' }
    })
    const live = new Set((await readLive(ctx.host)).items)
    const results: ChangeResult[] = []
    for (const { change, item, add } of steps) {
      let result: ChangeResult
      if (live.has(item) === add) result = { id: change.id, status: 'unchanged', message: \`\${item} is already as planned\` }
      else if (change.liveFingerprint !== undefined && fingerprint(live.has(item) ? item : undefined) !== change.liveFingerprint) {
        result = { id: change.id, status: 'failed', message: \`\${item} changed since the plan was made; plan again\` }
      } else {
        if (add) live.add(item)
        else live.delete(item)
        result = { id: change.id, status: 'applied', message: change.summary }
      }
      results.push(result)
      onResult?.(result)
    }
    if (results.some((r) => r.status === 'applied')) {
      if ((await ctx.host.stat('/etc/${provider}')) === undefined) await ctx.host.mkdir('/etc/${provider}')
      await ctx.host.writeFileAtomic(LIVE_PATH, [...live].sort().map((i) => \`\${i}\\n\`).join(''))
    }
    return { results, diagnostics: [] }
  }
}
`,
    'test/provider.test.ts': `import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stableStringify } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { ${cls} } from '../src/provider.js'

describe('${provider} provider', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), '${provider}-'))
    await mkdir(join(root, 'etc/${provider}'), { recursive: true })
    await writeFile(join(root, 'etc/${provider}/items'), 'alpha\\nbeta\\n')
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  it('passes the conformance kit, including apply on a test root', async () => {
    const provider = new ${cls}()
    const problems = await checkConformance(provider, createTestContext(root, { providers: [provider] }), {
      edit: () => [{ path: 'system/${provider}.json', content: stableStringify({ items: ['alpha', 'gamma'] }) }],
      apply: true,
      hostileEdit: (_docs, name) => [{ path: 'system/${provider}.json', content: stableStringify({ items: ['alpha', name] }) }],
    })
    assert.deepEqual(problems, [])
  })

  it('leaves a line that is no item name out of the twin, and says so with its own code', async () => {
    await writeFile(join(root, 'etc/${provider}/items'), 'alpha\\nNot An Item\\n')
    const provider = new ${cls}()
    const { state, diagnostics } = await provider.collect({ ctx: createTestContext(root) })
    assert.deepEqual(state, { items: ['alpha'] })
    assert.deepEqual(diagnostics.map((d) => [d.severity, d.code]), [['warning', '${prefix}ITEM_IGNORED']])
    assert.ok(Object.hasOwn(provider.codes, diagnostics[0]?.code ?? ''), 'every code of its own is declared in codes.ts')
  })
})
`,
    'README.md': `# ${name}

A TwinSync provider plugin: the \`${provider}\` provider.

It starts as an example domain (the items in \`/etc/${provider}/items\`, kept in the twin as
\`system/${provider}.json\`); replace it with yours in \`src/provider.ts\`, and its own codes
(each starting with \`${prefix}\`, with what it means and the next step) in \`src/codes.ts\`:
\`twinsync providers --codes\` lists them once the plugin is installed. Rules and every field
of a change are in TwinSync's plugin guide (docs/plugin-authoring.md); a complete real plugin
is TwinSync's examples/twinsync-plugin-dnf.

    npm install
    npm test                       # the conformance kit against a temporary test root
    npm run build && npm pack      # ${name.replace(/^@/, '').replace('/', '-')}-0.1.0.tgz
    twinsync plugins install ./${name.replace(/^@/, '').replace('/', '-')}-0.1.0.tgz
    twinsync providers

\`npm run build\` checks the types (\`tsc --noEmit\`) and bundles \`src/\` into one CommonJS file,
\`dist/hook.cjs\` (esbuild, \`@twinsync/sdk\` left out): the form TwinSync loads fastest.

\`@twinsync/sdk\` is a peer dependency: TwinSync gives the plugin its own copy, and refuses to
load the plugin when the range in package.json does not accept its SDK version. To build and
test, the plugin uses the SDK of the TwinSync that wrote it, \`${SDK_TARBALL}\` (a
devDependency; keep it with the sources, it is not part of the plugin's package). For another
SDK version, \`npm pack\` that TwinSync's \`sdk\` folder into \`vendor/\` and change the path.
Configuration (TwinSync's config file):

    ${provider}:
      maxItems: 1000
`,
  }
}
