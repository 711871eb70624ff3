import { render } from 'ink'
import { defaultConfigPath } from '../config/config-file.js'
import type { DependencyContainer } from '../di.js'
import { App } from './app.js'
import { leavePanel, type LeavingTerminal } from './busy.js'
import { leavingOnPurpose } from '../providers/unanswered-calls.js'
import { createTuiServices } from './services.js'

const ALT_SCREEN_ON = '\x1b[?1049h\x1b[H'
const ALT_SCREEN_OFF = '\x1b[?1049l'

/** Run the control panel on this terminal until the user leaves it. */
export async function runTui(options: { makeContainer: () => Promise<DependencyContainer>; configPath: string | undefined }): Promise<void> {
  const services = await createTuiServices(options.makeContainer, { configPath: options.configPath ?? defaultConfigPath() })
  // Full screen on the alternate screen, so the shell's scrollback is back as it was afterwards.
  process.stdout.write(ALT_SCREEN_ON)
  let leftAlt = false
  const leave = () => {
    if (!leftAlt) process.stdout.write(ALT_SCREEN_OFF)
    leftAlt = true
  }
  try {
    const instance = render(<App services={services} />, { exitOnCtrlC: false, patchConsole: true })
    await instance.waitUntilExit()
  } finally {
    leave()
  }
  // Every task the panel started is stopped and waited for (busy.ts): a drift check or plan cut off by
  // process.exit would leave a half-written cache file or the twin's index.lock behind. What it
  // waits for is said once the wait is not short, and Ctrl-C stops waiting (leavePanel).
  if ((await leavePanel(leavingTerminal())) > 0) process.stdout.write(`Waited for the apply under way to stop; \`${services.line(['history'])}\` shows what was done.\n`)
  leavingOnPurpose()
  process.exit(process.exitCode ?? 0)
}

/**
 * This terminal while the panel's work stops. On a terminal, stdin stays in raw mode (as ink had
 * it): a Ctrl-C is a key read here, not a SIGINT to the whole process group, which would kill
 * every git and provider program at work in the middle of its step (an index written half, an
 * apt run cut off). A SIGINT sent otherwise (kill -INT) counts as a Ctrl-C too.
 */
function leavingTerminal(): LeavingTerminal {
  return {
    write: (text) => process.stdout.write(text),
    exit: (code) => {
      leavingOnPurpose()
      process.exit(code)
    },
    onInterrupt: (fn) => {
      const stdin = process.stdin
      const raw = stdin.isTTY === true
      // ink set the encoding: a string, else bytes.
      const onData = (data: string | Buffer) => {
        if (typeof data === 'string' ? data.includes('\x03') : data.includes(0x03)) fn()
      }
      if (raw) {
        stdin.setRawMode(true)
        stdin.on('data', onData)
        stdin.resume()
        // Not what keeps the process alive: a provider call that waits on nothing still ends the run (base-command's beforeExit).
        stdin.unref()
      }
      process.on('SIGINT', fn)
      return () => {
        process.off('SIGINT', fn)
        if (raw) {
          stdin.off('data', onData)
          stdin.setRawMode(false)
          stdin.pause()
        }
      }
    },
  }
}
