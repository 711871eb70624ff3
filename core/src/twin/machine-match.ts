import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Diagnostic, HostPort } from '@twinsync/sdk'
import { TwinSyncError, errorDiagnostic, writeFileAtomic } from '@twinsync/sdk/light'
import { twinsyncLine, type CommandTarget } from '../plan/command-text.js'
import { runGitBytes } from './git.js'
import { appSpecificMachineId, knownMachineId as known, parseTwinInfo, type TwinInfo } from './twin-info.js'

/**
 * This machine's claim of a twin made of another (`twinsync init --claim`): the twin's machine
 * (twin.json) and the machine of the target that took it over, both as TwinSync's keyed hash of
 * the machine id (twin-info.ts; `"form": "app-specific"`, session 22: an older claim holds the ids
 * themselves, read as their hashes). `.git/twinsync/`, never committed or pushed: whose twin it
 * is here is this machine's to say, not the mirror's.
 */
export const CLAIM_RECORD = join('.git', 'twinsync', 'machine.json')

interface Claim {
  twin: string
  machine: string
}

/**
 * The target's machine (under `--root`, the root's) as TwinSync's keyed hash of its
 * /etc/machine-id (appSpecificMachineId; the id itself is confidential: machine-id(5)), or null
 * when it has none that says which machine it is.
 */
export async function targetMachineId(host: HostPort): Promise<string | null> {
  const id = (await host.readTextIfExists('/etc/machine-id', { follow: 'root-owned' }).catch(() => undefined))?.trim()
  return known(id) ? appSpecificMachineId(id) : null
}

async function readClaim(dir: string): Promise<Claim | undefined> {
  try {
    const value = JSON.parse(await readFile(join(dir, CLAIM_RECORD), 'utf8')) as Partial<Claim> & { form?: unknown }
    if (!known(value.twin) || !known(value.machine)) return undefined
    return value.form === 'app-specific' ? { twin: value.twin, machine: value.machine } : { twin: appSpecificMachineId(value.twin), machine: appSpecificMachineId(value.machine) }
  } catch {
    return undefined
  }
}

export interface OtherMachine {
  /** The machine twin.json names (TwinSync's keyed hash of its machine id). */
  twin: string
  twinHostname: string | null
  /** The target's machine (the same hash of its machine id). */
  here: string
}

/**
 * Whether the twin (its twin.json, `info`) was made of another machine than the target: both
 * machine ids known and different, and this machine has not claimed it. Undefined when it is this
 * machine's, or when either side does not say (a twin or a root without a machine id).
 *
 * A guard against mistakes (a mirror linked to another machine's twin, a twin copied between
 * machines, a reinstalled machine), not against a hostile mirror: whoever can push to it can
 * write this machine's id into twin.json.
 */
export async function otherMachine(dir: string, info: TwinInfo, host: HostPort): Promise<OtherMachine | undefined> {
  if (!known(info.machineId)) return undefined
  const here = await targetMachineId(host)
  if (here === null || here === info.machineId) return undefined
  const claim = await readClaim(dir)
  if (claim !== undefined && claim.twin === info.machineId && claim.machine === here) return undefined
  return { twin: info.machineId, twinHostname: info.hostname, here }
}

/**
 * twin.json as the commit `commit` of the twin at `dir` holds it (a fetched mirror's, a snapshot a
 * person names with --from or revert); undefined when it holds none that reads.
 */
export async function twinInfoAt(dir: string, commit: string): Promise<TwinInfo | undefined> {
  try {
    return parseTwinInfo(dir, await runGitBytes(dir, ['cat-file', 'blob', `${commit}:twin.json`]))
  } catch {
    return undefined
  }
}

/**
 * `from`: what is another machine's, when not the working twin: the mirror's fetched commit (its
 * next step the working twin's), or a snapshot of this twin's history (`snapshot`: planned from
 * by `--from` or a revert; its next step names this machine's own snapshots).
 */
function words(twin: CommandTarget & { repo: string }, other: OtherMachine, host: HostPort, from?: { what: string; snapshot?: true }): { summary: string; nextStep: string } {
  // The machines as TwinSync's hash of their ids (`systemd-id128 machine-id --app-specific=…` prints a machine's), never the ids.
  const whose = `machine ${other.twin.slice(0, 12)}…${other.twinHostname === null ? '' : `, hostname ${other.twinHostname}`}`
  const target = host.root === '/' ? 'this machine' : `the root at ${host.root}`
  const summary = `${from?.what ?? `The twin at ${twin.repo}`} is the twin of another machine (${whose}); ${target} is machine ${other.here.slice(0, 12)}…`
  const otherwise =
    from?.snapshot === true
      ? `otherwise plan from a snapshot of ${target}'s own (\`${twinsyncLine(['history'], twin)}\` lists them).`
      : 'otherwise point --repo at its own twin, or link this twin to its own mirror.'
  const nextStep =
    `If ${target} is that machine reinstalled or restored, or is meant to take over its twin, say so once with \`${twinsyncLine(['init', '--claim'], twin)}\` ` +
    `and review \`${twinsyncLine(['plan'], twin)}\` before applying; ${otherwise}`
  return { summary, nextStep }
}

/**
 * A snapshot of this twin's history a plan reads (`plan --from`, `apply --from`, a revert) whose
 * twin.json names another machine (pull looks at the fetched tip only: a commit before it may be
 * another machine's): the same error in the plan as the working twin's, so that both front ends
 * refuse to apply it. Undefined when it is this machine's (or claimed), or says no machine.
 */
export async function otherMachineAt(twin: CommandTarget & { repo: string }, commit: string, host: HostPort): Promise<Diagnostic | undefined> {
  const info = await twinInfoAt(twin.repo, commit)
  return info === undefined ? undefined : otherMachineDiagnostic(twin, info, host, { what: `The snapshot ${commit.slice(0, 12)} the plan is read from`, snapshot: true })
}

/** TWIN_OTHER_MACHINE (exit 2, nothing changed) when the twin is another machine's: apply, snapshot and pull ask it first. */
export async function refuseOtherMachine(twin: CommandTarget & { repo: string }, info: TwinInfo, host: HostPort, from?: { what: string; snapshot?: true }): Promise<void> {
  const other = await otherMachine(twin.repo, info, host)
  if (other === undefined) return
  const { summary, nextStep } = words(twin, other, host, from)
  throw new TwinSyncError('TWIN_OTHER_MACHINE', `${summary}. Nothing was changed.`, { nextStep, details: { twinMachineId: other.twin, machineId: other.here } })
}

/** The same as an error in a plan (so `plan` and `status` say it, and apply refuses the plan in both front ends). */
export async function otherMachineDiagnostic(twin: CommandTarget & { repo: string }, info: TwinInfo, host: HostPort, from?: { what: string; snapshot: true }): Promise<Diagnostic | undefined> {
  const other = await otherMachine(twin.repo, info, host)
  if (other === undefined) return undefined
  const { summary, nextStep } = words(twin, other, host, from)
  return errorDiagnostic('TWIN_OTHER_MACHINE', summary, { detail: nextStep })
}

/**
 * `twinsync init --claim`: the target takes over a twin made of another machine. Refused when the
 * target has no machine id that says which machine it is. Returns what was recorded, or undefined
 * when the twin already is the target's or claimed by it.
 */
export async function claimTwin(dir: string, info: TwinInfo, host: HostPort): Promise<{ twin: string; machine: string } | undefined> {
  const here = await targetMachineId(host)
  if (here === null) {
    throw new TwinSyncError('MACHINE_ID_UNKNOWN', `${host.root === '/' ? 'This machine' : `The root at ${host.root}`} has no machine id (/etc/machine-id is missing, empty or "uninitialized"), so it cannot claim a twin`, {
      nextStep: 'Give it one (`systemd-machine-id-setup`, or boot it once), then claim the twin again.',
    })
  }
  if (!known(info.machineId) || info.machineId === here) return undefined
  // Claimed already (since session 22 the claim stays: a restore no longer writes the twin's machine id back).
  const recorded = await readClaim(dir)
  if (recorded?.twin === info.machineId && recorded.machine === here) return undefined
  const claim: Claim = { twin: info.machineId, machine: here }
  await writeFileAtomic(join(dir, CLAIM_RECORD), `${JSON.stringify({ ...claim, form: 'app-specific' })}\n`, { mode: 0o600 })
  return claim
}
