import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * An entry of the record of run-once commands that ran (COMMANDS_LEDGER) is signed by the twin
 * that wrote it: `sig`, an HMAC of the command's key under the twin's own key (`twinKey`, the one
 * that seals plans, in `.git/twinsync/`, never pushed). The record travels with the twin, and a
 * mirror anyone with the token can push to may hand back a record that says a command ran here:
 * `pull` takes an entry this twin does not hold only when this twin signed it (session 18). A
 * twin restored from a backup older than the mirror then takes the mirror's record of what it
 * ran since (before, such a pull was refused and the only next step offered, a forced push,
 * dropped those applies from the mirror). Copied onto another command's key, or made with
 * another twin's key, a signature is no record.
 */
const SIG_CHARS = 32

function signature(key: Buffer, commandKey: string): string {
  return createHmac('sha256', key).update(`TwinSync-Ran\n${commandKey}`).digest('hex').slice(0, SIG_CHARS)
}

/** The `sig` of the record entry of the run-once command `commandKey`. */
export function signRan(key: Buffer, commandKey: string): string {
  return signature(key, commandKey)
}

/** Whether `entry` (a record entry, untrusted) carries this twin's signature for `commandKey`. */
export function signedHere(entry: unknown, commandKey: string, key: Buffer | undefined): boolean {
  if (key === undefined || typeof entry !== 'object' || entry === null) return false
  const given = (entry as { sig?: unknown }).sig
  if (typeof given !== 'string' || given.length !== SIG_CHARS) return false
  return timingSafeEqual(Buffer.from(given), Buffer.from(signature(key, commandKey)))
}
