import { Command, Config, Errors, Flags, type Interfaces } from '@oclif/core'
import type { Logger } from '@twinsync/sdk'
import { isTwinSyncError, TwinSyncError } from '@twinsync/sdk/errors'
import type { DependencyContainer } from './di.js'
import { terminalLines, terminalText } from './terminal-text.js'
import { userErrorOf } from './twin/disk-error.js'
import { anyUnanswered, exitCaller, isLeavingOnPurpose, leaveIfAbandoned, unfinishedRunError } from './providers/unanswered-calls.js'
import { strayStdoutToStderr, writeOut } from './own-stdout.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof TwinSyncCommand)['baseFlags'] & T['flags']>

/**
 * What every command shares: the global flags, one way to print results (text or --json), and
 * errors a person can act on (code, message, next step, exit 2) instead of stack traces.
 */
export abstract class TwinSyncCommand<T extends typeof Command = typeof Command> extends Command {
  static override baseFlags = {
    root: Flags.string({ description: 'Root directory of the target machine', default: '/', helpGroup: 'GLOBAL' }),
    repo: Flags.string({ description: 'Twin repository (default: /var/lib/twinsync/twin for root)', helpGroup: 'GLOBAL' }),
    config: Flags.string({ description: 'Configuration file (default: /etc/twinsync/config.yaml for root)', helpGroup: 'GLOBAL', env: 'TWINSYNC_CONFIG' }),
    json: Flags.boolean({ description: 'Print machine-readable JSON', helpGroup: 'GLOBAL', default: false }),
  }

  protected flags!: BaseFlags<T>

  /**
   * oclif's Command.run loads the Config it is handed again (a plugin's command may come with an
   * oclif of its own): for TwinSync's commands, run by the oclif that loaded that Config, the
   * same Config is used as it is. Measured (session 7): the second load 2.2–2.5 ms of CPU a run.
   */
  static override async run<C extends Command>(this: new (argv: string[], config: Config) => C, argv?: string[], opts?: Interfaces.LoadOptions): Promise<ReturnType<C['run']>> {
    if (!(opts instanceof Config)) return (Command.run as (this: unknown, argv?: string[], opts?: Interfaces.LoadOptions) => Promise<ReturnType<C['run']>>).call(this, argv, opts)
    const cmd = new this(argv ?? process.argv.slice(2), opts) as C & { _run(): Promise<ReturnType<C['run']>> }
    // As oclif's: a class run without an id (not through oclif's command list) is named after itself.
    if (!cmd.id) cmd.id = (cmd.constructor as typeof Command).id = cmd.constructor.name.toLowerCase()
    // The event loop empty while the command still runs (a promise that waits on nothing): said
    // as the failure it is, exit 1, not Node's silent exit 0 (unfinishedRunError). Taken off once
    // the command settles (exit-when-idle.js waits for Node's own end while a listener is on).
    const unfinished = () => void (cmd as unknown as TwinSyncCommand).catch(unfinishedRunError())
    // A provider's own `process.exit(0)` in the middle of its call (session 42, attack): the run
    // ended as a success, silent, its work not done. Said here, synchronously (nothing may wait
    // in an exit listener), and the exit code made 1. A non-zero code already says failure.
    const exited = (code: number) => {
      if (code !== 0 || !anyUnanswered() || isLeavingOnPurpose()) return
      ;(cmd as unknown as TwinSyncCommand).reportNow(unfinishedRunError({ exitedAt: exitCaller(new Error().stack) }) as TwinSyncError)
      process.exitCode = 1
    }
    process.once('beforeExit', unfinished)
    process.on('exit', exited)
    try {
      return await cmd._run()
    } finally {
      process.off('beforeExit', unfinished)
      process.off('exit', exited)
      ;(cmd as unknown as TwinSyncCommand).stdoutBack?.()
      // A provider call given up on (its time limit, provider-call.ts) may keep Node alive: the run ends now.
      leaveIfAbandoned()
    }
  }

  /** Undoes the --json run's hold on stdout (own-stdout.ts). */
  private stdoutBack: (() => void) | undefined

  override async init(): Promise<void> {
    await super.init()
    try {
      const { flags } = await this.parse({
        flags: this.ctor.flags,
        baseFlags: (this.ctor as typeof TwinSyncCommand).baseFlags,
        args: this.ctor.args,
        strict: this.ctor.strict,
      })
      this.flags = flags as BaseFlags<T>
      // With --json, stdout is the JSON document alone: a plugin's stray writes go to stderr (own-stdout.ts).
      if (this.flags.json) this.stdoutBack = strayStdoutToStderr()
    } catch (error) {
      // Whatever the parser refuses (a missing value, --limit -5) is the command line's fault.
      if (isTwinSyncError(error) || error instanceof Errors.ExitError) throw error
      const message = ((error as Error).message ?? String(error)).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^See more help/.test(l)).join(': ')
      throw new TwinSyncError('USAGE', message, { nextStep: `Run \`twinsync ${this.id ?? ''} --help\`.`.replace(' --help', this.id ? ' --help' : '--help') })
    }
  }

  /** The DI container for this run, loaded only when a command needs it. */
  protected async container(): Promise<DependencyContainer> {
    const { createContainer } = await import('./container.js')
    return createContainer({
      root: this.flags.root,
      repo: this.flags.repo,
      configPath: this.flags.config,
      oclif: this.config,
      logger: this.logger(),
      // Said on stderr, with --json too (stdout holds the JSON alone).
      waiting: (line) => process.stderr.write(`${terminalLines(line)}\n`),
    })
  }

  protected logger(): Logger {
    const debug = process.env.TWINSYNC_DEBUG === '1'
    return {
      debug: (m) => (debug ? process.stderr.write(`debug: ${m}\n`) : undefined),
      info: (m) => (this.flags.json ? undefined : process.stderr.write(`${terminalLines(m)}\n`)),
      warn: (m) => process.stderr.write(`warning: ${terminalLines(m)}\n`),
    }
  }

  /**
   * Print `value` as JSON with --json, otherwise the text that `render` makes of it, with nothing
   * a terminal would act on (terminalLines: the renderers spell out each name and diagnostic,
   * newlines included; this is the net under all of it).
   */
  protected emit<V>(value: V, render: (value: V) => string): void {
    if (this.flags.json) writeOut(JSON.stringify(value, null, 2) + '\n')
    else writeOut(terminalLines(render(value)).replace(/\n?$/, '\n'))
  }

  /** --json asked for: as parsed, or on the command line when parsing itself failed. */
  private wantsJson(): boolean {
    return this.flags?.json === true || this.argv.includes('--json')
  }

  /** A coded error said at once, as `catch` says it (text or --json), for where nothing may wait. */
  reportNow(error: TwinSyncError): void {
    if (this.wantsJson()) writeOut(JSON.stringify({ error: error.toJSON() }, null, 2) + '\n')
    else process.stderr.write(formatUserError(error))
  }

  override async catch(error: Error & { exitCode?: number }): Promise<void> {
    if (error instanceof Errors.ExitError) throw error
    // A user's command that failed in their twin holding root's files (a killed sudo run left
    // them): that is what to say, with the command that repairs it; the panel's ErrorBox asks
    // the same (failureAsTold, twin-owner.ts).
    const { failureAsTold } = await import('./twin/twin-owner.js')
    error = failureAsTold(error) as Error & { exitCode?: number }
    const known = toUserError(error, this.id)
    if (known !== undefined) {
      this.reportNow(known)
      process.exitCode = known.exitCode
      return
    }
    const json = this.wantsJson()
    const bug = { code: 'INTERNAL', message: error.message, nextStep: 'This is a bug in TwinSync. Run again with TWINSYNC_DEBUG=1 and report the output.' }
    if (json) writeOut(JSON.stringify({ error: bug }, null, 2) + '\n')
    else process.stderr.write(`twinsync: internal error: ${terminalText(error.message)}\n  ${bug.nextStep}\n`)
    if (process.env.TWINSYNC_DEBUG === '1') process.stderr.write(`${error.stack}\n`)
    process.exitCode = 1
  }
}

/** An error as the CLI prints it for a person: its message and next step spelled out (terminalText; they may quote twin names). */
export function formatUserError(error: TwinSyncError): string {
  return `twinsync: error [${error.code}] ${terminalText(error.message)}\n${error.nextStep ? `  Next step: ${terminalText(error.nextStep)}\n` : ''}`
}

/** A TwinSyncError, or an oclif usage error turned into one; undefined for our own bugs. */
function toUserError(error: Error, id: string | undefined): TwinSyncError | undefined {
  // A coded error, or a full disk no more specific code caught (still the disk, not a bug): the
  // panel's ErrorBox asks the same (disk-error.ts).
  const known = userErrorOf(error)
  if (known !== undefined) return known
  const isParseError = error instanceof Errors.CLIError && (/Parse|Flag|Arg/i.test(error.constructor.name) || 'parse' in error)
  if (isParseError) {
    return new TwinSyncError('USAGE', error.message.split('\n')[0] ?? error.message, {
      nextStep: `Run \`twinsync ${id ?? ''} --help\`.`.replace('  ', ' '),
    })
  }
  return undefined
}
