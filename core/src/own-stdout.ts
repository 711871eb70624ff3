/**
 * stdout of a --json run is one JSON document, TwinSync's. A provider is plugin code in this
 * process: a console.log or process.stdout.write of its (in collect, diff, apply, its hook...)
 * put its bytes before the JSON, and `twinsync status --json | jq` failed for every cron user of
 * that plugin (session 42, attack; session 43). While a command runs with --json, base-command
 * sends every other write to process.stdout to stderr (strayStdoutToStderr), and TwinSync writes
 * its document with writeOut, the one way past it. A person's text output is left as it is: a
 * plugin's lines there read where they were printed. Every command loads this module: it imports
 * nothing.
 *
 * Not caught: bytes written to file descriptor 1 below Node's stream (fs.writeSync(1), a child
 * process started with stdout inherited). docs/plugin-authoring.md says a plugin must not.
 */
let own: ((text: string) => void) | undefined

/** TwinSync's own output to stdout (a command's JSON document, or its text). */
export function writeOut(text: string): void {
  if (own !== undefined) own(text)
  else process.stdout.write(text)
}

/**
 * From now until the returned function is called, whatever else is written to process.stdout
 * (console.log, process.stdout.write, a stream piped to it) goes to stderr, unchanged.
 */
export function strayStdoutToStderr(): () => void {
  const stdout = process.stdout
  const hadOwn = Object.hasOwn(stdout, 'write')
  const write = stdout.write
  own = (text) => void write.call(stdout, text)
  const stray = function (...args: unknown[]): boolean {
    return (process.stderr.write as (...given: unknown[]) => boolean).apply(process.stderr, args)
  } as typeof stdout.write
  stdout.write = stray
  return () => {
    own = undefined
    if (stdout.write !== stray) return
    if (hadOwn) stdout.write = write
    else delete (stdout as { write?: unknown }).write
  }
}
