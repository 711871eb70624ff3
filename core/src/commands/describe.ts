import { ERROR_CODES } from '@twinsync/sdk/errors'
import { TwinSyncCommand } from '../base-command.js'

export const EXIT_CODES = {
  0: 'success',
  1: 'finished, but something is wrong: drift found with --exit-code, a plan or status that reports an error (a twin document its provider refuses), a step failed, or an internal error',
  2: 'refused: bad input or usage, stale plan, lock held; nothing was changed',
} as const

export default class Describe extends TwinSyncCommand<typeof Describe> {
  static override summary = 'Print a machine-readable manifest of commands, flags, exit codes and error codes'

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
    const manifest = {
      name: this.config.bin,
      version: this.config.version,
      commands,
      exitCodes: EXIT_CODES,
      errorCodes: ERROR_CODES,
    }
    // Always JSON: this command exists for machines.
    process.stdout.write(JSON.stringify(manifest, null, 2) + '\n')
  }
}
