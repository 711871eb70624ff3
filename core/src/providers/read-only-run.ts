import type { Diagnostic, HostReader, Provider } from '@twinsync/sdk'
import { errorDiagnostic, RecordingHost } from '@twinsync/sdk/light'

/**
 * The host ports of a piece of work that only reads the target (planning, describing a
 * snapshot, `history`, `show`, `diff`): each provider gets a dry-run host of its own over the
 * target that refuses every change (`HOST_READ_ONLY`, naming what it tried; the provider guard
 * turns that into a diagnostic naming the provider and the call). A provider that swallows the
 * refusal is still found out afterwards by `swallowed`.
 */
export class ReadOnlyRun {
  private readonly hosts = new Map<string, RecordingHost>()

  constructor(
    private readonly target: HostReader,
    /** What the work is, for the refusal: "Planning only reads". */
    private readonly reason: string,
    /** The work in words, for a provider that swallowed its refusal: "while planning". */
    private readonly during: string,
  ) {}

  /** The host port of one provider (the same one for every call of that provider in this run). */
  readonly hostFor = (provider: Pick<Provider, 'name'>): RecordingHost => {
    let host = this.hosts.get(provider.name)
    if (host === undefined) {
      host = new RecordingHost(this.target, { refuse: this.reason })
      this.hosts.set(provider.name, host)
    }
    return host
  }

  /**
   * An error for every provider that tried to change the target but has no error diagnostic of
   * its own in `diagnostics` (it caught the refusal and went on): nothing was changed either way.
   */
  swallowed(diagnostics: readonly Diagnostic[]): Diagnostic[] {
    const out: Diagnostic[] = []
    for (const [name, host] of this.hosts) {
      const first = host.actions[0]
      if (first === undefined || diagnostics.some((d) => d.provider === name && d.severity === 'error')) continue
      const what = first.kind === 'exec' ? `run ${[first.command, ...first.args].join(' ')}` : `${first.kind} ${first.path}`
      out.push(
        errorDiagnostic('PROVIDER_FAILED', `The ${name} provider tried to change the target ${this.during} (${what}${host.actions.length > 1 ? ` and ${host.actions.length - 1} more` : ''}); nothing was changed`, {
          provider: name,
          detail: `${this.reason}. A fault in the provider, not in TwinSync: report it to its authors, or disable it.`,
        }),
      )
    }
    return out
  }
}
