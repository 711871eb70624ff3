import type { ContainerOptions } from '../container.js'

/**
 * What `twinsync tui` runs: the control panel over a container this module's own services make.
 * The TUI is bundled apart from the other commands (core/scripts/bundle.mjs: ink waits on
 * top-level `await`, which the commands' CommonJS bundle cannot hold), so its container, services
 * and screens come from one copy of the code: a class from one copy is no token for the other's.
 */
export async function runTuiCommand(options: ContainerOptions): Promise<void> {
  const [{ createContainer }, { runTui }] = await Promise.all([import('../container.js'), import('./run-tui.js')])
  await runTui({ makeContainer: () => createContainer(options), configPath: options.configPath })
}
