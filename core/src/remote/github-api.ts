import { TwinSyncError } from '@twinsync/sdk/light'

export const DEFAULT_GITHUB_API = 'https://api.github.com'

export interface GitHubRepository {
  owner: string
  name: string
  private: boolean
  cloneUrl: string
  canPush: boolean
}

export interface GitHubApiOptions {
  token: string
  baseUrl?: string
  /** Replaces the network (tests hand in recorded responses). */
  fetch?: typeof fetch
}

/**
 * The few GitHub REST calls TwinSync makes, through Octokit, loaded only when used. Errors
 * come back as TwinSyncErrors that say what to do.
 */
export class GitHubApi {
  private octokit: Promise<import('@octokit/rest').Octokit> | undefined

  constructor(private readonly options: GitHubApiOptions) {}

  async user(): Promise<{ login: string }> {
    const { data } = await this.call('check the token', (o) => o.rest.users.getAuthenticated())
    return { login: data.login }
  }

  async getRepository(owner: string, name: string): Promise<GitHubRepository> {
    const { data } = await this.call(`read ${owner}/${name}`, (o) => o.rest.repos.get({ owner, repo: name }))
    return toRepository(data)
  }

  /** A new private repository, for the user or in an organisation. */
  async createPrivateRepository(name: string, org?: string): Promise<GitHubRepository> {
    const description = 'TwinSync digital twin of a machine'
    const { data } = await this.call(`create ${org ? `${org}/` : ''}${name}`, (o) =>
      org === undefined
        ? o.rest.repos.createForAuthenticatedUser({ name, private: true, description, auto_init: false })
        : o.rest.repos.createInOrg({ org, name, private: true, description, auto_init: false }),
    )
    return toRepository(data)
  }

  private client(): Promise<import('@octokit/rest').Octokit> {
    this.octokit ??= import('@octokit/rest').then(
      ({ Octokit }) =>
        new Octokit({
          auth: this.options.token,
          baseUrl: this.options.baseUrl ?? DEFAULT_GITHUB_API,
          userAgent: 'twinsync',
          log: { debug() {}, info() {}, warn() {}, error() {} },
          request: { retries: 0, ...(this.options.fetch === undefined ? {} : { fetch: this.options.fetch }) },
        }),
    )
    return this.octokit
  }

  private async call<T>(what: string, fn: (o: import('@octokit/rest').Octokit) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.client())
    } catch (error) {
      const status = (error as { status?: number }).status
      const message = (error as Error).message
      if (status === 401) throw new TwinSyncError('REMOTE_AUTH', `GitHub refused the token (${what})`, { nextStep: 'Give a valid token: GITHUB_TOKEN, or --token-stdin.' })
      if (status === 403) throw new TwinSyncError('REMOTE_AUTH', `The token may not ${what}: ${message}`, { nextStep: 'Give the token the "repo" scope (classic) or Contents and Administration access (fine-grained).' })
      if (status === 404) throw new TwinSyncError('REMOTE_INVALID', `GitHub: could not ${what}: not found (or the token cannot see it)`, { nextStep: 'Check OWNER/REPO and that the token can access it.' })
      if (status === 422) throw new TwinSyncError('REMOTE_INVALID', `GitHub: could not ${what}: ${message}`, { nextStep: 'The name may be taken: run the same command with another NAME.' })
      if (status === undefined) throw new TwinSyncError('REMOTE_UNREACHABLE', `GitHub could not be reached to ${what}: ${message}`, { nextStep: 'Check the network, or the API URL (--api-url) for GitHub Enterprise.' })
      throw new TwinSyncError('REMOTE_FAILED', `GitHub: could not ${what}: ${status} ${message}`)
    }
  }
}

interface RepoData {
  name: string
  owner: { login: string }
  private: boolean
  clone_url: string
  permissions?: { push?: boolean }
}

function toRepository(data: RepoData): GitHubRepository {
  return { owner: data.owner.login, name: data.name, private: data.private, cloneUrl: data.clone_url, canPush: data.permissions?.push ?? true }
}

/** "owner/repo", with GitHub's rules for the two names. */
export function parseOwnerRepo(value: string): { owner: string; repo: string } {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(value)
  if (m === null || m[2] === '.' || m[2] === '..') {
    throw new TwinSyncError('REMOTE_INVALID', `"${value}" is not OWNER/REPO`, { nextStep: 'Write it as on GitHub, such as acme/web1-twin.' })
  }
  return { owner: m[1] as string, repo: (m[2] as string).replace(/\.git$/, '') }
}

/** The default repository name for this machine: twin-<hostname>, in GitHub's alphabet. */
export function defaultRepositoryName(hostname: string | null): string {
  const base = (hostname ?? 'machine').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'machine'
  return `twin-${base}`.slice(0, 100)
}
