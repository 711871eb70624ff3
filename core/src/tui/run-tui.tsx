import { render } from 'ink'
import { defaultConfigPath } from '../config/config-file.js'
import type { DependencyContainer } from '../di.js'
import { App } from './app.js'
import { settleBusy } from './busy.js'
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
  // process.exit would leave a half-written cache file or the twin's index.lock behind.
  if ((await settleBusy()) > 0) process.stdout.write(`Waited for the apply under way to stop; \`${services.line(['history'])}\` shows what was done.\n`)
  leavingOnPurpose()
  process.exit(process.exitCode ?? 0)
}
