import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { GitHubApi, defaultRepositoryName, parseOwnerRepo } from '../src/remote/github-api.js'
import { RemoteService } from '../src/remote/remote-service.js'
import { Tokens, registerValue } from '../src/tokens.js'
import type { TwinRepository } from '../src/twin/twin-repository.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

const recorded = (name: string) => JSON.parse(readFileSync(new URL(`../../test/fixtures/github/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>
const TOKEN = 'ghp_' + 'x'.repeat(36)

interface Call {
  method: string
  url: string
  authorization: string | null
  body: unknown
}

/** A GitHub that answers with recorded responses, and checks the token like the real one. */
function recordedGitHub(routes: Record<string, { status: number; body: Record<string, unknown> }>) {
  const calls: Call[] = []
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input)
    const headers = new Headers(init?.headers)
    const method = init?.method ?? 'GET'
    calls.push({ method, url, authorization: headers.get('authorization'), body: init?.body ? JSON.parse(String(init.body)) : undefined })
    if (headers.get('authorization') !== `token ${TOKEN}`) return Response.json(recorded('bad-credentials'), { status: 401 })
    const route = routes[`${method} ${new URL(url).pathname}`]
    if (route === undefined) return Response.json({ message: 'Not Found' }, { status: 404 })
    return Response.json(route.body, { status: route.status })
  }) as typeof globalThis.fetch
  return { calls, fetch }
}

const refused = (code: string) => (e: unknown) => isTwinSyncError(e) && e.code === code

describe('GitHub API through Octokit, against recorded responses', () => {
  it('reads a repository, its privacy and push permission', async () => {
    const gh = recordedGitHub({ 'GET /repos/acme/web1-twin': { status: 200, body: recorded('get-repo-private') } })
    const repo = await new GitHubApi({ token: TOKEN, fetch: gh.fetch }).getRepository('acme', 'web1-twin')
    assert.deepEqual(repo, { owner: 'acme', name: 'web1-twin', private: true, cloneUrl: 'https://github.com/acme/web1-twin.git', canPush: true })
    assert.equal(gh.calls[0]?.url, 'https://api.github.com/repos/acme/web1-twin')
  })

  it('creates repositories private, for the user or an organisation, at a configurable API URL', async () => {
    const gh = recordedGitHub({
      'POST /user/repos': { status: 201, body: recorded('create-repo') },
      'POST /api/v3/orgs/acme/repos': { status: 201, body: recorded('create-repo') },
    })
    await new GitHubApi({ token: TOKEN, fetch: gh.fetch }).createPrivateRepository('twin-web1')
    await new GitHubApi({ token: TOKEN, fetch: gh.fetch, baseUrl: 'https://ghe.example.org/api/v3' }).createPrivateRepository('twin-web1', 'acme')
    assert.deepEqual(gh.calls.map((c) => [c.method, c.url, (c.body as { private: boolean }).private]), [
      ['POST', 'https://api.github.com/user/repos', true],
      ['POST', 'https://ghe.example.org/api/v3/orgs/acme/repos', true],
    ])
  })

  it('turns a bad token into REMOTE_AUTH and an unknown repository into REMOTE_INVALID', async () => {
    const gh = recordedGitHub({})
    await assert.rejects(new GitHubApi({ token: 'wrong', fetch: gh.fetch }).user(), refused('REMOTE_AUTH'))
    await assert.rejects(new GitHubApi({ token: TOKEN, fetch: gh.fetch }).getRepository('acme', 'nope'), refused('REMOTE_INVALID'))
  })

  it('parses OWNER/REPO and derives a default name from the host name', () => {
    assert.deepEqual(parseOwnerRepo('acme/web1-twin'), { owner: 'acme', repo: 'web1-twin' })
    for (const bad of ['acme', 'acme/', '/x', 'a/b/c', 'acme/..', 'ac me/x']) assert.throws(() => parseOwnerRepo(bad), refused('REMOTE_INVALID'), bad)
    assert.equal(defaultRepositoryName('Web1.Example.ORG'), 'twin-web1.example.org')
    assert.equal(defaultRepositoryName(null), 'twin-machine')
  })
})

describe('linking and pushing to GitHub (recorded API, local bare repository as the clone URL)', () => {
  let rig: UnitRig
  let bare: string
  let twin: TwinRepository
  const env = { ...process.env }

  beforeEach(async () => {
    rig = await unitRig([])
    bare = join(rig.dir, 'remote.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare])
    twin = rig.twin()
    await twin.init({ formatVersion: 1, machineId: null, hostname: 'web1' })
    process.env.TWINSYNC_CREDENTIALS = join(rig.dir, 'credentials')
    delete process.env.GITHUB_TOKEN
    delete process.env.GH_TOKEN
  })
  afterEach(async () => {
    process.env = { ...env }
    await rig.cleanup()
  })

  const service = (routes: Parameters<typeof recordedGitHub>[0]) => {
    const gh = recordedGitHub(routes)
    // The service over the rig's container, with the GitHub API answering from the recording.
    const c = rig.container.createChildContainer()
    registerValue(c, Tokens.GitHubApiFactory, (o) => new GitHubApi({ ...o, fetch: gh.fetch }))
    return { gh, remote: c.resolve(RemoteService) }
  }

  it('links a private repository and pushes, checking privacy before every push', async () => {
    const repo = { ...recorded('get-repo-private'), clone_url: bare }
    const { gh, remote } = service({ 'GET /repos/acme/web1-twin': { status: 200, body: repo } })
    const status = await remote.linkGitHub('acme/web1-twin', { token: TOKEN })
    assert.deepEqual([status.configured, status.kind, status.repository, status.pending], [true, 'github', 'acme/web1-twin', 1])
    const pushed = await remote.push()
    assert.equal(pushed.status, 'pushed')
    assert.equal(execFileSync('git', ['--git-dir', bare, 'rev-parse', 'main'], { encoding: 'utf8' }).trim(), await twin.head())
    assert.equal(gh.calls.filter((c) => c.method === 'GET').length, 2, 'once to link, once before the push')
    assert.ok(gh.calls.every((c) => c.authorization === `token ${TOKEN}`))
  })

  it('refuses to link a public repository, and to push once a linked one became public', async () => {
    const { remote } = service({ 'GET /repos/acme/open-twin': { status: 200, body: recorded('get-repo-public') } })
    await assert.rejects(remote.linkGitHub('acme/open-twin', { token: TOKEN }), refused('REMOTE_PUBLIC'))
    assert.equal((await remote.status()).configured, false)

    const linked = service({ 'GET /repos/acme/web1-twin': { status: 200, body: { ...recorded('get-repo-private'), clone_url: bare } } })
    await linked.remote.linkGitHub('acme/web1-twin', { token: TOKEN })
    const turnedPublic = service({ 'GET /repos/acme/web1-twin': { status: 200, body: { ...recorded('get-repo-public'), name: 'web1-twin', clone_url: bare } } })
    const outcome = await turnedPublic.remote.push()
    assert.equal(outcome.status, 'failed')
    assert.equal(outcome.error?.code, 'REMOTE_PUBLIC')
    assert.throws(() => execFileSync('git', ['--git-dir', bare, 'rev-parse', '--verify', '--quiet', 'main'], { stdio: 'ignore' }))
  })

  it('creates twin-<hostname> privately and links it; without a token it says how to give one', async () => {
    const { gh, remote } = service({ 'POST /user/repos': { status: 201, body: { ...recorded('create-repo'), clone_url: bare } } })
    const status = await remote.createGitHub(undefined, { token: TOKEN, hostname: 'web1' })
    assert.equal(status.repository, 'ann/twin-web1')
    assert.deepEqual(gh.calls[0]?.body, { name: 'twin-web1', private: true, description: 'TwinSync digital twin of a machine', auto_init: false })
    assert.equal(JSON.parse(readFileSync(join(rig.dir, 'credentials'), 'utf8')).token, TOKEN, 'a given token is kept for later pushes')
    process.env.TWINSYNC_CREDENTIALS = join(rig.dir, 'no-credentials')
    // The next step is the command that was run, with the token from standard input (issue 23 item 7).
    await assert.rejects(service({}).remote.createGitHub('x', { hostname: 'web1' }), (e: unknown) => {
      assert.ok(refused('TOKEN_MISSING')(e))
      assert.match((e as { nextStep?: string }).nextStep ?? '', /^printf %s "\$TOKEN" \| twinsync github create x --token-stdin --root \S+ --repo \S+$/)
      return true
    })
  })
})
