import { strict as assert } from 'node:assert'
import type { Change, HostReader } from '@twinsync/sdk'
import { needsRootLine, rootNeeds, rootNeedsNow, rootNotes, rootReason } from '../src/plan/root-needs.js'
import { renderPlan } from '../src/cli/render-plan.js'
import { machinePathOfChange } from '../src/plan/machine-path.js'
import { needEdges } from '../src/plan/ordering-rules.js'
import { twinsyncLine } from '../src/plan/command-text.js'
/** Lines as a run on this machine's default twin and configuration says them (no flags). */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/' })


/** A machine of a few paths: uid, gid, mode (a fake host reader: stat and lstat). */
function machine(paths: Record<string, { type: 'file' | 'directory'; uid: number; gid?: number; mode: number }>): HostReader {
  const stat = async (path: string) => {
    const p = paths[path]
    return p === undefined ? undefined : { ...p, gid: p.gid ?? p.uid, size: 0 }
  }
  return { stat, lstat: stat } as unknown as HostReader
}

const file = (path: string, operation = 'replace'): Change =>
  ({ id: `files:${operation}:${path}`, provider: 'files', category: 'files', operation, resource: path, summary: `${operation} ${path}`, risk: 'low', data: { action: 'write', path } }) as unknown as Change
const pkg: Change = { id: 'apt:install:hello', provider: 'apt', category: 'packages', operation: 'install', resource: 'hello', summary: 'install hello', risk: 'low' } as Change

describe('rootNeeds: the steps a run that is not root\'s cannot apply', () => {
  const host = machine({
    '/': { type: 'directory', uid: 0, mode: 0o755 },
    '/etc': { type: 'directory', uid: 0, mode: 0o755 },
    '/etc/motd': { type: 'file', uid: 0, mode: 0o644 },
    '/srv': { type: 'directory', uid: 0, gid: 50, mode: 0o775 },
    '/home/ann': { type: 'directory', uid: 1000, mode: 0o700 },
    '/home/ann/.bashrc': { type: 'file', uid: 1000, mode: 0o644 },
    '/home': { type: 'directory', uid: 0, mode: 0o755 },
  })
  const ann = { uid: 1000, gids: [1000] }
  const changes = [file('/etc/motd'), file('/etc/new.conf', 'create'), file('/home/ann/.bashrc'), file('/home/ann/.config/new/x', 'create'), file('/srv/a', 'create'), pkg]

  it('names root-owned files, folders the user may not write and packages, each once with the next step; nothing for root', async () => {
    const notes = await rootNeeds(host, changes, ann, { root: '/', repo: '/home/ann/twin' })
    assert.deepEqual(notes.map((d) => d.change), ['files:replace:/etc/motd', 'files:create:/etc/new.conf', 'files:create:/srv/a', 'apt:install:hello'])
    assert.equal(rootReason(changes[0] as Change, notes[0]), "/etc/motd is root's")
    assert.equal(rootReason(changes[1] as Change, notes[1]), 'its folder /etc is not this user\'s to write')
    assert.ok(notes.every((d) => d.severity === 'info' && d.detail === 'Apply as root: `sudo twinsync apply --repo /home/ann/twin`.'))
    // A member of the folder's group may write it.
    assert.deepEqual((await rootNeeds(host, [file('/srv/a', 'create')], { uid: 1000, gids: [1000, 50] }, { root: '/' })).length, 0)
    assert.deepEqual(await rootNeeds(host, changes, { uid: 0, gids: [0] }, { root: '/' }), [])
  })

  it('is shown beside each step and in the plan\'s head by the CLI', async () => {
    const diagnostics = await rootNeeds(host, changes, ann, { root: '/', repo: '/home/ann/twin' })
    const plan = { formatVersion: 1, createdAt: '', basis: { twinCommit: null, root: '/', fingerprints: {} }, changes, edges: [], diagnostics } as never
    assert.equal(rootNotes(plan).size, 4)
    assert.match(needsRootLine(plan) ?? '', /^4 of 6 changes need root: .*`sudo twinsync apply --repo \/home\/ann\/twin`/)
    const text = renderPlan(plan, LINE)
    assert.match(text, /replace \/etc\/motd.*\[needs root\]\n\s+needs root: \/etc\/motd is root's/)
    assert.doesNotMatch(text, /\.bashrc.*needs root/)
  })
})

describe('the machine path of a change: one answer for ordering and for root needs (session 21)', () => {
  const host = machine({
    '/': { type: 'directory', uid: 0, mode: 0o755 },
    '/etc': { type: 'directory', uid: 0, mode: 0o755 },
    '/etc/cron.d': { type: 'directory', uid: 0, mode: 0o755 },
    '/etc/apt': { type: 'directory', uid: 0, mode: 0o755 },
    '/etc/apt/sources.list.d': { type: 'directory', uid: 0, mode: 0o755 },
  })
  const ann = { uid: 1000, gids: [1000] }
  // A plugin's job file: `{ path, content }` data, a name for its resource (cron-like).
  const job = { id: 'jobs:create:backup', provider: 'jobs', category: 'startup', operation: 'create', resource: 'backup job', summary: 'create the backup job', risk: 'low', data: { path: '/etc/cron.d/backup', content: '17 3 * * * root /usr/local/bin/backup\n' } } as unknown as Change
  // A command whose argument list starts with a path: it writes no path it names.
  const command = { id: 'commands:run:x', provider: 'commands', category: 'commands', operation: 'run', resource: '/etc/apt/sources.list.d/x.list --refresh', summary: 'run /etc/apt/sources.list.d/x.list --refresh', risk: 'high', data: { kind: 'run', argv: ['/etc/apt/sources.list.d/x.list', '--refresh'] } } as unknown as Change
  const install = { ...pkg, needs: ['/etc/apt/sources.list.d/', '/etc/cron.d/backup'] } as Change

  it('gives the same path to both', async () => {
    assert.equal(machinePathOfChange(job), '/etc/cron.d/backup')
    assert.equal(machinePathOfChange(command), undefined)
    // The planner orders the job before what needs its path, and the command before nothing.
    assert.deepEqual(needEdges([job, command, install]).map((e) => e.from), ['jobs:create:backup'])
    // A user's run is told the job's path is not theirs to write, by that path.
    const notes = await rootNeeds(host, [job, command], ann, { root: '/' })
    assert.deepEqual(notes.map((d) => [d.change, d.path]), [['jobs:create:backup', '/etc/cron.d/backup']])
    assert.equal(rootReason(job, notes[0]), "its folder /etc/cron.d is not this user's to write")
  })
})

describe('a saved plan\'s NEEDS_ROOT notes are made again for the run that applies it (session 21)', () => {
  const host = machine({
    '/': { type: 'directory', uid: 0, mode: 0o755 },
    '/etc': { type: 'directory', uid: 0, mode: 0o755 },
    '/etc/motd': { type: 'file', uid: 0, mode: 0o644 },
  })
  it('root gets none, another user gets their own; the other diagnostics and the changes stay', async () => {
    const changes = [file('/etc/motd'), pkg]
    const made = await rootNeeds(host, changes, { uid: 1000, gids: [1000] }, { root: '/' })
    const other = { severity: 'warning', code: 'SOMETHING_ELSE', summary: 'kept' }
    const saved = { changes, diagnostics: [other, ...made] } as never as Pick<import('@twinsync/sdk').Plan, 'changes' | 'diagnostics'>
    const byRoot = await rootNeedsNow(saved, host, { uid: 0, gids: [0] }, { root: '/' })
    assert.deepEqual(byRoot.diagnostics, [other])
    assert.equal(byRoot.changes, changes)
    assert.equal(needsRootLine(byRoot), undefined)
    const byBob = await rootNeedsNow(saved, host, { uid: 1001, gids: [1001] }, { root: '/' })
    assert.deepEqual(byBob.diagnostics.map((d) => d.code), ['SOMETHING_ELSE', 'NEEDS_ROOT', 'NEEDS_ROOT'])
  })
})
