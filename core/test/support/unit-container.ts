// The services of one command run over a child container with fakes at the ports: the target is
// a RecordingHost (reads from a private root, every change recorded and not made), providers
// come from a fake plugin hook, the clock is fixed. The twin is a real git repository.
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Config as OclifConfig } from '@oclif/core'
import type { Provider } from '@twinsync/sdk'
import { LocalHost, RecordingHost, silentLogger } from '@twinsync/sdk'
import { container as rootContainer, type DependencyContainer } from '../../src/di.js'
import { builtinProviders } from '../../src/providers/builtin-providers.js'
import { ProviderRegistry } from '../../src/providers/provider-registry.js'
import { GitHubApi } from '../../src/remote/github-api.js'
import { Tokens, registerValue } from '../../src/tokens.js'
import { SimpleGitClient } from '../../src/twin/git.js'
import { TwinRepository } from '../../src/twin/twin-repository.js'

export interface UnitRig {
  dir: string
  /** The target's files, read through the host; never changed by the services (the host records instead). */
  root: string
  twinDir: string
  /** The target port: what the services would have changed on the machine, in order. */
  host: RecordingHost
  /** A child container with the fakes registered; register more fakes on it before resolving. */
  container: DependencyContainer
  twin(): TwinRepository
  /** git in the twin, for checks. */
  git(...args: string[]): string
  /** Another run holding the twin lock (until `release`). */
  holdLock(): Promise<{ release(): Promise<void> }>
  cleanup(): Promise<void>
}

/** The built-in providers are disabled (and `disabled`, of `providers`); `providers` come from a plugin named `twinsync-plugin-fake`. */
export async function unitRig(providers: Provider[], options: { clock?: () => Date; at?: { root: string; twinDir: string }; disabled?: readonly string[] } = {}): Promise<UnitRig> {
  // `at`: another process's services over a rig's root and twin (a run to kill, pull-until-killed.ts).
  const dir = options.at === undefined ? await mkdtemp(join(tmpdir(), 'twinsync-unit-')) : join(options.at.twinDir, '..')
  const root = options.at?.root ?? join(dir, 'root')
  const twinDir = options.at?.twinDir ?? join(dir, 'twin')
  await mkdir(join(root, 'etc'), { recursive: true })
  const builtin = (await builtinProviders()).map((b) => b.provider.name)
  const oclif = {
    runHook: async () => ({ successes: [{ plugin: { name: 'twinsync-plugin-fake' }, result: { providers } }], failures: [] }),
  } as unknown as OclifConfig
  const host = new RecordingHost(new LocalHost(root))
  const c = rootContainer.createChildContainer()
  registerValue(c, Tokens.Config, { path: undefined, values: { providers: { disabled: [...builtin, ...(options.disabled ?? [])] } } })
  registerValue(c, Tokens.OclifConfig, oclif)
  registerValue(c, Tokens.Host, host)
  registerValue(c, Tokens.TwinLocation, { dir: twinDir, source: 'flag' })
  registerValue(c, Tokens.GitFactory, (d: string) => new SimpleGitClient(d))
  registerValue(c, Tokens.Logger, silentLogger)
  let tick = 0
  registerValue(c, Tokens.Clock, options.clock ?? (() => new Date(Date.UTC(2026, 0, 1, 12, 0, tick++))))
  registerValue(c, Tokens.GitHubApiFactory, (o) => new GitHubApi(o))
  c.registerSingleton(ProviderRegistry)
  return {
    dir,
    root,
    twinDir,
    host,
    container: c,
    twin: () => c.resolve(TwinRepository),
    git: (...args) => execFileSync('git', ['-C', twinDir, ...args], { encoding: 'utf8' }).trim(),
    async holdLock() {
      const lock = c.resolve(TwinRepository).lock()
      await lock.acquire('another run')
      return { release: () => lock.release() }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}
