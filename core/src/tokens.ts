/** Injection tokens. Strings, so no decorated class has to import another to name it. */
export const Tokens = {
  /** The validated configuration file (LoadedConfig). */
  Config: 'Config',
  /** The oclif Config, for running plugin hooks; undefined outside the CLI. */
  OclifConfig: 'OclifConfig',
  /** The HostPort of the target. */
  Host: 'Host',
  /** Where the twin repository is (TwinLocation). */
  TwinLocation: 'TwinLocation',
  /** GitClientFactory: opens simple-git on a directory. */
  GitFactory: 'GitFactory',
  Logger: 'Logger',
  /** () => Date, so tests can fix the time of a snapshot. */
  Clock: 'Clock',
  /** (options) => GitHubApi: Octokit behind a class tests can replace. */
  GitHubApiFactory: 'GitHubApiFactory',
} as const
