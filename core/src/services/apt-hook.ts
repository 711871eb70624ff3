import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import { isTwinSyncError } from '@twinsync/sdk/errors'
import { ownEnv } from '@twinsync/sdk/light'
import { inject, injectable } from '../di.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { busyWhy, SnapshotWorkflow, type TakeSnapshotResult } from './take-snapshot.js'

/** Installed packages as "name version", the way the hook compares before and after dpkg. */
async function packages(root: string): Promise<Map<string, string>> {
  const r = await execa('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', '-f', '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'], { reject: false, extendEnv: false, env: ownEnv() })
  const map = new Map<string, string>()
  for (const line of r.stdout.split('\n')) {
    const [name, version, status] = line.split('\t')
    if (name && status?.startsWith('ii')) map.set(name, version ?? '')
  }
  return map
}

/** "install hello, remove nano, upgrade libc6" from two package lists; undefined when equal. */
export function describePackageChange(before: Map<string, string>, after: Map<string, string>): string | undefined {
  const install = [...after.keys()].filter((p) => !before.has(p)).sort()
  const remove = [...before.keys()].filter((p) => !after.has(p)).sort()
  const upgrade = [...after.keys()].filter((p) => before.has(p) && before.get(p) !== after.get(p)).sort()
  const group = (verb: string, names: string[]) => (names.length === 0 ? undefined : names.length <= 5 ? `${verb} ${names.join(' ')}` : `${verb} ${names.length} packages (${names.slice(0, 3).join(' ')} …)`)
  const parts = [group('install', install), group('remove', remove), group('upgrade', upgrade)].filter((p): p is string => p !== undefined)
  return parts.length === 0 ? undefined : parts.join(', ')
}

/**
 * The one line when another TwinSync run held the twin or applied to the machine and this snapshot
 * was left to it: `busyWhy`'s words, as `snapshot --if-changed` says them (session 29: the twin
 * held had a line of its own here).
 */
function busyLine(r: TakeSnapshotResult, phase: 'pre' | 'post'): string | undefined {
  if (r.skipped !== 'busy') return undefined
  return `twinsync: skipped the ${phase}-apt snapshot: ${busyWhy(r.busy)}`
}

const serialize = (m: Map<string, string>) => [...m].map(([k, v]) => `${k}\t${v}`).join('\n')
const parse = (s: string) => new Map(s.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]))

/**
 * What apt's DPkg::Pre-Invoke / Post-Invoke run: a snapshot before (only when the machine drifted,
 * which is what --if-changed decides) and after the package operation, named after it. Never
 * throws: returns the one line to print on stderr when there was no snapshot.
 */
@injectable()
export class AptHookWorkflow {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(SnapshotWorkflow) private readonly snapshots: SnapshotWorkflow,
  ) {}

  run(root: string, phase: 'pre' | 'post'): Promise<string | undefined> {
    return runAptHook(this.twin, this.snapshots, root, phase)
  }
}

async function runAptHook(twin: TwinRepository, snapshots: SnapshotWorkflow, root: string, phase: 'pre' | 'post'): Promise<string | undefined> {
  try {
    await twin.open()
    const saved = join(twin.cacheDir(), 'apt-hook-packages')
    if (phase === 'pre') {
      await mkdir(dirname(saved), { recursive: true })
      await writeFile(saved, serialize(await packages(root)))
      return busyLine(await snapshots.take({ init: false, ifChanged: true, note: 'before apt', pack: 'incremental' }), phase)
    }
    const before = await readFile(saved, 'utf8').then(parse, () => undefined)
    const change = before === undefined ? undefined : describePackageChange(before, await packages(root))
    await rm(saved, { force: true })
    return busyLine(await snapshots.take({ init: false, ifChanged: true, note: 'after apt', pack: 'incremental', ...(change === undefined ? {} : { subject: `apt: ${change}` }) }), phase)
  } catch (error) {
    const e = error as Error
    return `twinsync: no ${phase === 'pre' ? 'pre' : 'post'}-apt snapshot: ${isTwinSyncError(e) ? `[${e.code}] ` : ''}${e.message.split('\n')[0]}`
  }
}
