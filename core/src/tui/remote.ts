// The TUI's seam for the GitHub / git remote mirror (core/src/remote/, built separately).
//
// Nothing here talks to a remote. The screens ask `useRemote()` and show "GitHub: not linked"
// while it returns undefined; wiring the mirror means implementing RemotePort over the remote
// service and returning it from createTuiServices (container-services.ts, `remote:`).
import { useServices } from './services-context.js'

export interface RemoteStatus {
  /** One line for the status bar, e.g. "GitHub: me/host-twin, 2 to push". */
  summary: string
  linked: boolean
  /** Snapshots committed locally but not pushed yet. */
  pendingPushes?: number
}

export interface RemotePort {
  status(signal: AbortSignal): Promise<RemoteStatus>
  /** Push after a snapshot; the result line is shown next to the commit id. */
  push?(signal: AbortSignal): Promise<{ ok: boolean; message: string }>
  /** Pull before planning in "Pull & apply". */
  pull?(signal: AbortSignal): Promise<{ ok: boolean; message: string }>
  /** Test the link (Init / GitHub linking and Settings). */
  test?(signal: AbortSignal): Promise<{ ok: boolean; message: string }>
  /** Link an existing private repository (OWNER/REPO); the token, when given, is kept 0600. */
  link?(repository: string, token: string | undefined): Promise<{ ok: boolean; message: string }>
  /** Create a private repository (default name twin-<hostname>) and link it. */
  create?(name: string | undefined, token: string | undefined): Promise<{ ok: boolean; message: string }>
}

/** The mirror, when one is wired in; undefined today. */
export function useRemote(): RemotePort | undefined {
  return useServices().remote
}

export const NOT_LINKED = 'GitHub: not linked'
