// A command's container over a private root and twin, with fake plugin providers in place of the
// built-in ones: the same services the CLI and the TUI call, quick enough for unit tests.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Config as OclifConfig } from '@oclif/core'
import type { Provider } from '@twinsync/sdk'
import { silentLogger } from '@twinsync/sdk'
import { createContainer } from '../../src/container.js'
import type { DependencyContainer } from '../../src/di.js'
import { builtinProviders } from '../../src/providers/builtin-providers.js'

export interface ServiceRig {
  dir: string
  root: string
  twinDir: string
  configPath: string
  /** A fresh container per call, as each command run (and the TUI after saving settings) has. */
  container(): Promise<DependencyContainer>
  cleanup(): Promise<void>
}

/** The built-in providers are disabled; `providers` come from a plugin named `twinsync-plugin-fake`. */
export async function serviceRig(providers: Provider[], options: { clock?: () => Date } = {}): Promise<ServiceRig> {
  const dir = await mkdtemp(join(tmpdir(), 'twinsync-rig-'))
  const root = join(dir, 'root')
  const twinDir = join(dir, 'twin')
  const configPath = join(dir, 'config.yaml')
  await import('node:fs/promises').then((fs) => fs.mkdir(root))
  const builtin = (await builtinProviders()).map((b) => b.provider.name)
  await writeFile(configPath, `providers:\n  disabled: [${builtin.join(', ')}]\n`)
  const oclif = {
    runHook: async () => ({ successes: [{ plugin: { name: 'twinsync-plugin-fake' }, result: { providers } }], failures: [] }),
  } as unknown as OclifConfig
  return {
    dir,
    root,
    twinDir,
    configPath,
    container: () =>
      createContainer({ root, repo: twinDir, configPath, oclif, logger: silentLogger, ...(options.clock === undefined ? {} : { clock: options.clock }) }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}
