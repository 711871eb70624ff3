import { spawn } from 'node:child_process'

/** What a program run by plainQuery did: as LocalHost.exec reads execa's result. */
export interface PlainQueryResult {
  /** The exit code; 1 when the program was killed by a signal or could not be started. */
  exitCode: number
  stdout: string
  stderr: string
  /** The program was not found (spawn's ENOENT). */
  notFound: boolean
}

/**
 * Run a program that only reads, with no input, time limit or cancel signal, by a plain spawn
 * instead of execa: its arguments as a list (no shell), standard input ignored, its own process
 * group, its output decoded as UTF-8 when it ends, a failure to start or a signal read as exit
 * code 1, as LocalHost.exec reads execa's result with `reject: false`. Anything else (input, a
 * time limit, a signal; every program that changes the target) goes through execa as before.
 *
 * Speed (issue 22, session 10): the files provider's getcap and getfattr of the paths that
 * moved are the only programs a changed snapshot runs through the host port, so execa (about
 * 50 modules in the SDK's bundle, not in an unchanged snapshot's code cache: compiled from
 * source) was loaded and set up for them alone. Figures in docs/architecture.md (Speed).
 */
export function plainQuery(file: string, args: readonly string[], options: { env: Record<string, string>; cwd?: string }): Promise<PlainQueryResult> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let failure: NodeJS.ErrnoException | undefined
    let done = false
    const finish = (code: number | null): void => {
      if (done) return
      done = true
      resolve({
        exitCode: failure !== undefined || code === null ? 1 : code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        notFound: failure?.code === 'ENOENT',
      })
    }
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(file, [...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: options.env,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        shell: false,
        // Its own process group, as LocalHost.exec's: a Ctrl-C reaches TwinSync, not the program.
        detached: true,
        windowsHide: true,
      })
    } catch (error) {
      failure = error as NodeJS.ErrnoException
      finish(null)
      return
    }
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', (error: NodeJS.ErrnoException) => {
      failure = error
      // Never started: no 'close' may follow.
      if (child.pid === undefined) finish(null)
    })
    child.on('close', (code) => finish(code))
  })
}
