// The TUI's real services (createTuiServices) over a real container on a test root, as the panel uses them.
import { createContainer } from '../../core/src/container.js'
import { createTuiServices, type TuiServices } from '../../core/src/tui/services.js'
import type { CliSandbox } from './cli.js'

export const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined }
// No plugins: a plugin hook that finds none (tsyringe cannot inject an undefined value).
export const noPlugins = { runHook: async () => ({ successes: [], failures: [] }) } as unknown as Parameters<typeof createContainer>[0]['oclif']

/** A container over this root and twin, quiet and without plugins. */
export function testContainer(root: { rootfs: { dir: string }; cli: CliSandbox }): ReturnType<typeof createContainer> {
  return createContainer({ root: root.rootfs.dir, repo: root.cli.twinDir, configPath: root.cli.configFile, logger: quiet, oclif: noPlugins })
}

export function tuiServices(root: { rootfs: { dir: string }; cli: CliSandbox }): Promise<TuiServices> {
  return createTuiServices(() => testContainer(root), { configPath: root.cli.configFile })
}
