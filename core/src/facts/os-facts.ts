import { release } from 'node:os'
import type { ProviderContext } from '@twinsync/sdk'
import { FactProvider, offlineReason, parseEnvFile } from './fact-provider.js'

/** system/os.json: distribution, version, codename, kernel and architecture. */
export class OsFacts extends FactProvider {
  readonly name = 'os'
  readonly description = 'Distribution, version, kernel and architecture'
  readonly twinPaths = ['system/os.json']

  protected async read(ctx: ProviderContext): Promise<Record<string, unknown>> {
    const osRelease = parseEnvFile(
      (await ctx.host.readTextIfExists('/etc/os-release')) ?? (await ctx.host.readTextIfExists('/usr/lib/os-release')) ?? '',
    )
    const debianVersion = (await ctx.host.readTextIfExists('/etc/debian_version'))?.trim()
    return {
      'system/os.json': {
        id: osRelease.ID ?? null,
        idLike: osRelease.ID_LIKE ?? null,
        name: osRelease.NAME ?? null,
        prettyName: osRelease.PRETTY_NAME ?? null,
        version: osRelease.VERSION_ID ?? null,
        codename: osRelease.VERSION_CODENAME ?? null,
        debianVersion: debianVersion ?? null,
        architecture: await architecture(ctx),
        // The kernel is the running one's; an offline root has none of its own.
        kernel: ctx.host.live ? { available: true, release: release() } : offlineReason(ctx),
      },
    }
  }
}

/** dpkg's native architecture, read from the target's own dpkg data. */
async function architecture(ctx: ProviderContext): Promise<string | null> {
  const status = await ctx.host.readTextIfExists('/var/lib/dpkg/status')
  if (status !== undefined) {
    const m = /^Package: dpkg\n(?:[^\n]+\n)*?Architecture: (\S+)/m.exec(status)
    if (m !== null) return m[1] as string
  }
  return ctx.host.live ? nodeArchToDebian(process.arch) : null
}

function nodeArchToDebian(arch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x' } as Record<string, string>)[arch] ?? arch
}
