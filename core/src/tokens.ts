import type { Config as OclifConfig } from '@oclif/core'
import type { HostPort, Logger } from '@twinsync/sdk'
import type { DependencyContainer } from 'tsyringe'
import type { LoadedConfig } from './config/config-file.js'
import type { GitHubApiFactory } from './remote/remote-service.js'
import type { GitClientFactory } from './twin/git.js'
import type { TwinLocation } from './twin/twin-location.js'

/**
 * A string token that carries the type it stands for: `resolveToken` and `registerValue` check
 * it, so no caller casts. Strings, so no decorated class has to import another to name it.
 */
export type Token<T> = string & { readonly __type?: T }

const token = <T>(name: string): Token<T> => name as Token<T>

/** Injection tokens. */
export const Tokens = {
  /** The validated configuration file. */
  Config: token<LoadedConfig>('Config'),
  /**
   * The oclif Config: the installed plugins and their hooks, where providers come from. Always
   * there (the TUI runs inside a command too); tests give one that answers the hook themselves.
   */
  OclifConfig: token<OclifConfig>('OclifConfig'),
  /** The HostPort of the target. */
  Host: token<HostPort>('Host'),
  /** Where the twin repository is. */
  TwinLocation: token<TwinLocation>('TwinLocation'),
  /** Opens the twin's git client on a directory. */
  GitFactory: token<GitClientFactory>('GitFactory'),
  Logger: token<Logger>('Logger'),
  /** () => Date, so tests can fix the time of a snapshot. */
  Clock: token<() => Date>('Clock'),
  /** (options) => GitHubApi: Octokit behind a class tests can replace. */
  GitHubApiFactory: token<GitHubApiFactory>('GitHubApiFactory'),
} as const

/** The value registered for a token, typed by the token. */
export function resolveToken<T>(container: DependencyContainer, key: Token<T>): T {
  return container.resolve<T>(key)
}

/** Register a value for a token; the value must have the token's type. */
export function registerValue<T>(container: DependencyContainer, key: Token<T>, value: T): void {
  container.register<T>(key, { useValue: value as T })
}
