import type { CollectRequest, CollectResult, DetectResult, Provider, ProviderContext, TwinDocument } from '@twinsync/sdk'
import { stableStringify } from '@twinsync/sdk/light'
import { CORE_VERSION } from '../version.js'

/** What a fact that only a running system has says about an offline root. */
export interface Unavailable {
  available: false
  reason: string
}

export function offlineReason(ctx: ProviderContext): Unavailable {
  return { available: false, reason: `the target root ${ctx.host.root} is not the running system` }
}

/**
 * A read-only domain (OS, hardware, network, processes, logs): detect is always true, collect
 * renders each fact file as stable JSON. Subclasses only read facts.
 */
export abstract class FactProvider implements Provider<Record<string, unknown>> {
  abstract readonly name: string
  abstract readonly description: string
  abstract readonly twinPaths: readonly string[]
  readonly version = CORE_VERSION
  readonly category = 'facts' as const

  async detect(): Promise<DetectResult> {
    return { detected: true, diagnostics: [] }
  }

  async collect({ ctx }: CollectRequest): Promise<CollectResult<Record<string, unknown>>> {
    const files = await this.read(ctx)
    const documents: TwinDocument[] = Object.entries(files).map(([path, value]) => ({
      path,
      content: typeof value === 'string' ? value : stableStringify(value),
    }))
    return { state: files, documents, diagnostics: [] }
  }

  /** Twin path to content: an object (written as stable JSON) or text. */
  protected abstract read(ctx: ProviderContext): Promise<Record<string, unknown>>
}

/**
 * A volatile quantity to `figures` significant figures (13,291,520 to 3 is 13,300,000): the
 * digits past them are the noise of when it was read, and kept they would make a volatile
 * document differ in every snapshot (issue 22: repository growth; see its users for figures).
 */
export function toFigures(value: number, figures: number): number {
  return Number.isFinite(value) && value !== 0 ? Number(value.toPrecision(figures)) : value
}

/** KEY=value lines, as in /etc/os-release; quotes removed. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m === null) continue
    out[m[1] as string] = (m[2] as string).replace(/^(["'])(.*)\1$/, '$2')
  }
  return out
}
