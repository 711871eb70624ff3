import type { Diagnostic } from '@twinsync/sdk'
import { ERROR_CODES, isTwinSyncError } from '@twinsync/sdk/errors'
import { TwinSyncCommand } from '../base-command.js'
import { renderDiagnostics } from '../cli/render-diagnostics.js'

export const EXIT_CODES = {
  0: 'success',
  1: 'finished, but something is wrong: drift found with --exit-code, a plan or status that reports an error (a twin document its provider refuses), a step failed, or an internal error',
  2: 'refused: bad input or usage, stale plan, lock held; nothing was changed',
} as const

export default class Describe extends TwinSyncCommand<typeof Describe> {
  static override summary = "Print a machine-readable manifest of commands, flags, exit codes, error codes and the providers' own codes"

  async run(): Promise<void> {
    const commands = this.config.commands
      .filter((c) => !c.hidden && !c.pluginName?.startsWith('@oclif/'))
      .map((c) => ({
        id: c.id,
        summary: c.summary ?? c.description ?? '',
        aliases: c.aliases,
        flags: Object.fromEntries(
          Object.entries(c.flags).map(([name, f]) => [name, { type: f.type, description: f.description ?? '', ...(f.type === 'option' && f.default !== undefined ? { default: f.default } : {}) }]),
        ),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
    const { codes, diagnostics: loading } = await this.providerCodes()
    // What kept a provider's codes out of this manifest (a plugin that failed to load, a configuration
    // no plugin loads under): a warning here, as the manifest of the CLI is whole without them.
    const diagnostics = loading.map((d): Diagnostic => (d.severity === 'error' ? { ...d, severity: 'warning' } : d))
    const manifest = {
      name: this.config.bin,
      version: this.config.version,
      commands,
      exitCodes: EXIT_CODES,
      errorCodes: ERROR_CODES,
      // A provider's own codes (FILES_…, DNF_…) by code, with the provider and the plugin that declares it.
      providerCodes: codes,
      ...(diagnostics.length > 0 ? { diagnostics } : {}),
    }
    // Always JSON: this command exists for machines.
    process.stdout.write(JSON.stringify(manifest, null, 2) + '\n')
    // A plugin that failed to load has codes this manifest cannot list: said on stderr and in
    // `diagnostics`, exit 0. Session 49 exited 1 (as `providers`), so a script that runs describe to
    // learn the CLI failed on a plugin or a configuration it does not read (session 49's review, C4).
    for (const line of renderDiagnostics(diagnostics)) process.stderr.write(`${line}\n`)
  }

  /**
   * The loaded providers' codes (ProvidersWorkflow.codes). A configuration TwinSync cannot read
   * loads no plugin: the manifest still lists TwinSync's own codes, with the refusal as a diagnostic.
   */
  private async providerCodes(): Promise<{ codes: Record<string, unknown>; diagnostics: Diagnostic[] }> {
    try {
      const { ProvidersWorkflow } = await import('../services/list-providers.js')
      return await (await this.container()).resolve(ProvidersWorkflow).codes()
    } catch (error) {
      if (!isTwinSyncError(error)) throw error
      const refused: Diagnostic = { severity: 'error', code: error.code, summary: `No provider was loaded, so no provider's codes are listed: ${error.message}`, ...(error.nextStep === undefined ? {} : { detail: error.nextStep }) }
      return { codes: {}, diagnostics: [refused] }
    }
  }
}
