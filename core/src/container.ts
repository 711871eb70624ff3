import { realpathSync, statSync, type Stats } from 'node:fs'
import type { Config as OclifConfig } from '@oclif/core'
import type { Logger } from '@twinsync/sdk'
import { LocalHost, TwinSyncError } from '@twinsync/sdk/light'
import { container as rootContainer, type DependencyContainer } from './di.js'
import { configLine, loadConfigFile } from './config/config-file.js'
import { setCallTimeouts } from './providers/provider-call.js'
import { ProviderRegistry } from './providers/provider-registry.js'
import { GitHubApi, type GitHubApiOptions } from './remote/github-api.js'
import { Tokens, registerValue } from './tokens.js'
import { SimpleGitClient } from './twin/git.js'
import { resolveTwinLocation } from './twin/twin-location.js'
import { readerWait, waitingLine } from './twin/twin-lock.js'

export interface ContainerOptions {
  root: string
  repo?: string | undefined
  configPath?: string | undefined
  /** The command's oclif Config (plugins and their hooks). */
  oclif: OclifConfig
  logger: Logger
  clock?: () => Date
  /** Where a reader waiting for another run to finish with the twin says so, once (TwinLock's readerWait.said): the CLI's stderr. */
  waiting?: (line: string) => void
}

/** One container per command run: the validated config, the target's host port, the twin. */
export async function createContainer(options: ContainerOptions): Promise<DependencyContainer> {
  const root = await checkRoot(options.root)
  // A CONFIG_INVALID's `twinsync config` line: the --root and --repo given (the file did not load).
  const config = await loadConfigFile(options.configPath, configLine({ root, repo: options.repo }))
  const location = resolveTwinLocation(options.repo, config.values.repo)
  // How long a provider's call may take: the run's configuration, for every callProvider of it.
  setCallTimeouts(config.values.providers ?? {})
  // Once a run: a plan may wait in each of its reads (settling, putting back, after a read).
  const waiting = options.waiting
  let said = false
  readerWait.said =
    waiting === undefined
      ? undefined
      : (holder) => {
          if (!said) waiting(waitingLine(holder))
          said = true
        }
  const c = rootContainer.createChildContainer()
  registerValue(c, Tokens.Config, config)
  registerValue(c, Tokens.OclifConfig, options.oclif)
  registerValue(c, Tokens.Host, new LocalHost(root))
  registerValue(c, Tokens.TwinLocation, location)
  registerValue(c, Tokens.GitFactory, (dir: string) => new SimpleGitClient(dir))
  registerValue(c, Tokens.Logger, options.logger)
  registerValue(c, Tokens.Clock, options.clock ?? (() => new Date()))
  registerValue(c, Tokens.GitHubApiFactory, (o: GitHubApiOptions) => new GitHubApi(o))
  c.registerSingleton(ProviderRegistry)
  return c
}

async function checkRoot(root: string): Promise<string> {
  let s: Stats | undefined
  try {
    s = statSync(root)
  } catch {
    s = undefined
  }
  if (s === undefined || !s.isDirectory()) {
    throw new TwinSyncError('ROOT_NOT_FOUND', `The target root ${root} does not exist or is not a directory`, {
      nextStep: 'Give --root the directory of a mounted root file system, or leave it out for this machine.',
      details: { root },
    })
  }
  return realpathSync.native(root)
}
