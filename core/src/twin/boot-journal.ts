import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { SAFE_PATH } from '@twinsync/sdk/light'

/**
 * Session 49 (review F3, s48): what this machine's own journal says of an earlier boot, evidence
 * of whose a lock of another boot is that does not come from the clock now (twin-lock.ts,
 * laterThanThisBoot). The local journal (`journalctl` without `--merge`: the files of this
 * machine id's folder, /var/log/journal/<machine-id>, and /run's) holds boots journald wrote with
 * this machine id (the `_BOOT_ID` of an entry is journald's own, a sender cannot set it; nor
 * `_TRANSPORT`). Undefined when it cannot say: no persistent journal (Storage=volatile, or no
 * /var/log/journal), a user who may not read the system journal (not root, not in `adm` or
 * `systemd-journal`), no journalctl, no entry of that boot (a machine id made anew at boot keeps
 * each boot in a folder of its own, which the local journal does not read), or a boot id that is
 * not one (the lock is the twin's, untrusted).
 *
 * Session 50 (review L1, s49): that folder is not this machine's boots alone. Two containers of
 * one image (one machine id) whose journals meet in one host folder (systemd-nspawn's
 * `--link-journal=host`, or `auto` beside one started with `try-guest`) write it at once, each
 * boot with its own id: a boot found there may be running now. Nor does the order of sequence
 * numbers tell the boots apart: a journald that opens a file another journald has open starts a
 * file of its own with the same `__SEQNUM_ID`, numbered on from that file's end, and the two count
 * on side by side (Debian 12 and 13 in booted containers: container A, still running, wrote
 * seqnum 0x37 after container B booted again, whose first entry is 0x16a).
 *
 * Cost: one `journalctl` (a match on `_BOOT_ID`, read from the journal's field index, newest entry
 * only), at most once per boot id and process, and only for a lock another boot left that this
 * machine's clock cannot place (twin-lock.ts); never on a run that finds no such lock. A second
 * one, a second later (session 51), only when that entry is the boot's journald stopping and the
 * lock would be taken on its word. The first
 * entry of this boot (firstEntry) is a second run, only where its order is evidence (see
 * twin-lock.ts), once per process.
 */
export interface JournalEntry {
  /** When it was written, ms since the epoch by the clock of its boot. */
  ms: number
  /** Its place in journald's count: the count's id (`__SEQNUM_ID`, the cursor's `s=`) and its number there (`__SEQNUM`, `i=`). */
  seqnumId: string
  seqnum: bigint
  /** journald's own "Journal stopped" (message id d93fb3c9…, `_TRANSPORT=driver`, which only journald writes): that boot's journald ended. */
  journalStopped: boolean
}

/** The message id journald gives its "Journal stopped" entry (SD_MESSAGE_JOURNAL_STOP, sd-messages.h). */
const JOURNAL_STOP = 'd93fb3c9c24d451a97cea615ce59c00b'

/** The port the twin lock asks (an object, so a test can replace its members). */
export const bootJournal = {
  /**
   * This machine's journal's last entry of boot `bootId`; undefined when it has none or cannot be
   * read. `again`: read once more, LOOK_AGAIN_MS later and past the answer kept (twin-lock.ts asks
   * it only when a "Journal stopped" would take a lock: a journald being restarted writes "Journal
   * started" after its stop); that answer is kept too, so a process waits once per boot.
   */
  lastEntry(bootId: string, again = false): JournalEntry | undefined {
    const id = hexBootId(bootId)
    if (id === undefined) return undefined
    if (again && !lookedAgain.has(id)) {
      lookedAgain.add(id)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LOOK_AGAIN_MS) // the lock's judgement is synchronous, as journalctl's run is
      lastEntries.delete(id)
    }
    if (!lastEntries.has(id)) lastEntries.set(id, entryOf(journalctl([`_BOOT_ID=${id}`, '--reverse', '--lines=1']), id))
    return lastEntries.get(id)
  },

  /**
   * This machine's journal's first entry of boot `bootId` (this boot's). Read forward with no
   * limit, and the run ended by its output passing maxBuffer once the first entries are in:
   * Debian 12's journalctl (systemd 252) has no `--lines=+1`, and `--since=@0 --lines=1` gives the
   * first entry there but the last on Debian 13's (257).
   */
  firstEntry(bootId: string): JournalEntry | undefined {
    const id = hexBootId(bootId)
    if (id === undefined) return undefined
    if (!firstEntries.has(id)) firstEntries.set(id, entryOf(journalctl([`_BOOT_ID=${id}`], 1 << 14), id))
    return firstEntries.get(id)
  },

  /**
   * Whether this process runs in a container: systemd as PID 1 writes the manager's name to
   * /run/systemd/container; Docker and Podman leave /.dockerenv and /run/.containerenv. A
   * container may share its journal folder with a sibling that started before it.
   */
  inContainer(): boolean {
    return ['/run/systemd/container', '/.dockerenv', '/run/.containerenv'].some((path) => existsSync(path))
  },
}

/**
 * Session 51: how long after a "Journal stopped" the last entry is read again. systemd starts the
 * journald it restarts at once (`systemctl restart systemd-journald`, or its socket at the next
 * message), and the new one writes "Journal started" when it has opened the journal: tens of
 * milliseconds; a second leaves room for a loaded machine.
 */
const LOOK_AGAIN_MS = 1000

const lastEntries = new Map<string, JournalEntry | undefined>()
const lookedAgain = new Set<string>()
const firstEntries = new Map<string, JournalEntry | undefined>()

/** A boot id as journald writes it (32 hex digits), or undefined when it is not one. */
function hexBootId(bootId: string): string | undefined {
  const id = bootId.replace(/-/g, '').toLowerCase()
  return /^[0-9a-f]{32}$/.test(id) ? id : undefined
}

/** journalctl's JSON lines for `args` (no shell, SAFE_PATH, C locale), as far as they came; '' when it failed. */
function journalctl(args: string[], maxBuffer = 1 << 20): string {
  const run = spawnSync('journalctl', [...args, '--output=json', '--output-fields=_BOOT_ID,MESSAGE_ID,_TRANSPORT', '--quiet', '--no-pager'], {
    env: { PATH: SAFE_PATH, LC_ALL: 'C' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 10_000,
    maxBuffer,
  })
  const cut = (run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOBUFS'
  return (run.status === 0 || cut) && typeof run.stdout === 'string' ? run.stdout : ''
}

/** The first entry `journalctl -o json` printed, when it is of boot `id` (32 hex digits) and whole; undefined otherwise. */
export function entryOf(output: string, id: string): JournalEntry | undefined {
  const line = output.split('\n', 2)[0] ?? ''
  if (!line.startsWith('{')) return undefined
  try {
    const entry = JSON.parse(line) as Record<string, unknown>
    const time = entry.__REALTIME_TIMESTAMP
    if (entry._BOOT_ID !== id || typeof time !== 'string' || !/^\d{1,19}$/.test(time)) return undefined
    // Debian 13's journalctl prints __SEQNUM_ID and __SEQNUM; Debian 12's only the cursor, which holds them as s= and i= (hex).
    const cursor = typeof entry.__CURSOR === 'string' ? entry.__CURSOR : ''
    const seqnumId = typeof entry.__SEQNUM_ID === 'string' ? entry.__SEQNUM_ID : /(?:^|;)s=([0-9a-f]{32})(?:;|$)/.exec(cursor)?.[1]
    const seqnum = typeof entry.__SEQNUM === 'string' && /^\d{1,20}$/.test(entry.__SEQNUM) ? BigInt(entry.__SEQNUM) : hexBig(/(?:^|;)i=([0-9a-f]{1,16})(?:;|$)/.exec(cursor)?.[1])
    if (seqnumId === undefined || !/^[0-9a-f]{32}$/.test(seqnumId) || seqnum === undefined) return undefined
    return { ms: Math.floor(Number(time) / 1000), seqnumId, seqnum, journalStopped: entry.MESSAGE_ID === JOURNAL_STOP && entry._TRANSPORT === 'driver' }
  } catch {
    return undefined
  }
}

function hexBig(hex: string | undefined): bigint | undefined {
  return hex === undefined ? undefined : BigInt(`0x${hex}`)
}
