import { spawnSync } from 'node:child_process'
import { SAFE_PATH } from '@twinsync/sdk/light'

/**
 * Session 49 (review F3, s48): what this machine's own journal says of an earlier boot, evidence
 * of whose a lock of another boot is that does not come from the clock now (twin-lock.ts,
 * takenSinceThisBoot). The local journal (`journalctl` without `--merge`: the files of this
 * machine id's folder, /var/log/journal/<machine-id>, and /run's) holds only boots this machine's
 * journald wrote (the `_BOOT_ID` of an entry is journald's own, a sender cannot set it): a boot
 * found there that is not this one is this machine's earlier boot, or, on a disk copied from a
 * running machine, that machine's boot up to the copy (the last entry is then no later than the
 * copy). Undefined when it cannot say: no persistent journal (Storage=volatile, or no
 * /var/log/journal), a user who may not read the system journal (not root, not in `adm` or
 * `systemd-journal`), no journalctl, no entry of that boot (a machine id made anew at boot keeps
 * each boot in a folder of its own, which the local journal does not read), or a boot id that is
 * not one (the lock is the twin's, untrusted).
 *
 * Cost: one `journalctl` (a match on `_BOOT_ID`, read from the journal's field index, newest entry
 * only), at most once per boot id and process, and only for a lock another boot left that this
 * machine's clock cannot place (twin-lock.ts); never on a run that finds no such lock.
 */
export const bootJournal = {
  /** When this machine's journal wrote its last entry of boot `bootId` (ms since the epoch, by that boot's clock); undefined when it has none or cannot be read. */
  lastEntryMs(bootId: string): number | undefined {
    const id = bootId.replace(/-/g, '').toLowerCase()
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined
    if (!lastEntries.has(id)) lastEntries.set(id, readLastEntry(id))
    return lastEntries.get(id)
  },
}

const lastEntries = new Map<string, number | undefined>()

function readLastEntry(id: string): number | undefined {
  const run = spawnSync('journalctl', [`_BOOT_ID=${id}`, '--reverse', '--lines=1', '--output=json', '--output-fields=_BOOT_ID', '--quiet', '--no-pager'], {
    env: { PATH: SAFE_PATH, LC_ALL: 'C' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 10_000,
    maxBuffer: 1 << 20,
  })
  return run.status === 0 && typeof run.stdout === 'string' ? lastEntryOf(run.stdout, id) : undefined
}

/** The time of the entry `journalctl -o json` printed, when it is of boot `id` (32 hex digits); undefined otherwise. */
export function lastEntryOf(output: string, id: string): number | undefined {
  const line = output.split('\n').find((l) => l.startsWith('{'))
  if (line === undefined) return undefined
  try {
    const entry = JSON.parse(line) as { _BOOT_ID?: unknown; __REALTIME_TIMESTAMP?: unknown }
    if (entry._BOOT_ID !== id || typeof entry.__REALTIME_TIMESTAMP !== 'string' || !/^\d{1,19}$/.test(entry.__REALTIME_TIMESTAMP)) return undefined
    return Math.floor(Number(entry.__REALTIME_TIMESTAMP) / 1000)
  } catch {
    return undefined
  }
}
