import type { DependencyContainer } from '../di.js'
import { RemoteService } from '../remote/remote-service.js'
import { renderPush } from '../cli/render.js'
import { Tokens, resolveToken } from '../tokens.js'
import { machineIdentity } from '../twin/machine-identity.js'
import type { RemotePort } from './remote.js'

async function targetHostname(c: DependencyContainer): Promise<string | null> {
  return (await machineIdentity(resolveToken(c, Tokens.Host))).hostname
}

/**
 * The mirror for the panel, over the same RemoteService the `push`, `pull` and `github`
 * commands use. `container` is read on every call, so a rebuilt container (after settings are
 * saved) is picked up.
 */
export function remotePort(container: () => DependencyContainer): RemotePort {
  const service = () => container().resolve(RemoteService)
  return {
    async status() {
      const s = await service().status()
      if (!s.configured) return { summary: 'GitHub: not linked', linked: false }
      const name = s.kind === 'github' ? `GitHub: ${s.repository}` : `Mirror: ${s.url}`
      return { summary: `${name}${s.pending > 0 ? `, ${s.pending} to push` : ''}`, linked: true, pendingPushes: s.pending }
    },
    async push() {
      const outcome = await service().push()
      if (outcome.status === 'not-configured') return { ok: true, message: 'no mirror linked; the snapshot is local only' }
      return { ok: outcome.status !== 'failed', message: renderPush(outcome).join(' ') }
    },
    async pull() {
      if (!(await service().status()).configured) return { ok: true, message: 'no mirror linked; planning against the local twin' }
      const pulled = await service().pull()
      const message =
        pulled.status === 'fast-forwarded'
          ? `pulled ${pulled.pulled} snapshot(s) from the mirror`
          : pulled.status === 'ahead'
            ? `nothing to pull; ${pulled.ahead} local snapshot(s) not yet pushed`
            : 'the twin is up to date with its mirror'
      return { ok: true, message }
    },
    async link(repository, token) {
      const s = await service().linkGitHub(repository, token === undefined ? {} : { token })
      return { ok: true, message: `Linked GitHub ${s.repository}; ${s.pending} snapshot(s) to push.` }
    },
    async create(name, token) {
      const s = await service().createGitHub(name, { hostname: await targetHostname(container()), ...(token === undefined ? {} : { token }) })
      return { ok: true, message: `Created the private repository ${s.repository} and linked it; ${s.pending} snapshot(s) to push.` }
    },
    async test() {
      const checks = await service().test()
      return { ok: checks.every((c) => c.ok), message: checks.map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.check}: ${c.detail}`).join('; ') }
    },
  }
}
