import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Provider } from '@twinsync/sdk'
import { SnapshotService } from '../../src/snapshot/snapshot-service.js'
import { unitRig, type UnitRig } from './unit-container.js'

/** A unit rig of one provider, the machine's notes "first", the twin initialised and snapshotted once. */
export async function snapshotted(provider: Provider): Promise<UnitRig> {
  const rig = await unitRig([provider])
  await writeFile(join(rig.root, 'etc/notes'), 'first\n')
  await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
  await rig.container.resolve(SnapshotService).snapshot()
  return rig
}

/** The index as git lists it (`ls-files --stage`): `<path> <mode> <blob id>` an entry. */
export function listedBy(rig: UnitRig): string[] {
  return rig
    .git('ls-files', '--stage', '-z')
    .split('\0')
    .filter(Boolean)
    .map((line) => `${line.slice(line.indexOf('\t') + 1)} ${line.split(' ').slice(0, 2).join(' ')}`)
}
