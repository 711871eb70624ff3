import { hostname, networkInterfaces } from 'node:os'
import type { ProviderContext } from '@twinsync/sdk'
import { sortBy } from '@twinsync/sdk/light'
import { FactProvider, offlineReason } from './fact-provider.js'

/**
 * system/network/network.json: hostname and DNS resolvers (from the target's files, so an
 * offline root has them too), interfaces and the default route (only a running system has them).
 */
export class NetworkFacts extends FactProvider {
  readonly name = 'network'
  readonly description = 'Hostname, interfaces, default route, DNS resolvers'
  readonly twinPaths = ['system/network/']

  protected async read(ctx: ProviderContext): Promise<Record<string, unknown>> {
    const fileHostname = (await ctx.host.readTextIfExists('/etc/hostname', { follow: 'root-owned' }))?.trim() || null
    const resolvConf = (await ctx.host.readTextIfExists('/etc/resolv.conf', { follow: 'root-owned' })) ?? ''
    return {
      'system/network/network.json': {
        hostname: ctx.host.live ? hostname() : fileHostname,
        dns: parseResolvConf(resolvConf),
        interfaces: ctx.host.live ? liveInterfaces() : offlineReason(ctx),
        defaultRoute: ctx.host.live ? parseDefaultRoute((await ctx.host.readTextIfExists('/proc/net/route', { follow: 'root-owned' })) ?? '') : offlineReason(ctx),
      },
    }
  }
}

export function parseResolvConf(text: string): { nameservers: string[]; search: string[] } {
  const nameservers: string[] = []
  const search: string[] = []
  for (const line of text.split('\n')) {
    const [key, ...values] = line.trim().split(/\s+/)
    if (key === 'nameserver' && values[0]) nameservers.push(values[0])
    if ((key === 'search' || key === 'domain') && values.length > 0) search.push(...values)
  }
  return { nameservers, search }
}

function liveInterfaces(): Array<{ name: string; mac: string | null; addresses: string[] }> {
  const out = Object.entries(networkInterfaces()).map(([name, infos]) => ({
    name,
    mac: infos?.find((i) => i.mac !== '00:00:00:00:00:00')?.mac ?? null,
    addresses: (infos ?? []).map((i) => i.cidr ?? i.address).sort(),
  }))
  return sortBy(out, (i) => i.name)
}

/** The default IPv4 route from /proc/net/route, whose addresses are little-endian hex. */
export function parseDefaultRoute(text: string): { interface: string; gateway: string } | null {
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, gateway] = line.trim().split(/\s+/)
    if (iface && destination === '00000000' && gateway) {
      const bytes = gateway.match(/../g)?.map((h) => parseInt(h, 16)).reverse() ?? []
      return { interface: iface, gateway: bytes.join('.') }
    }
  }
  return null
}
