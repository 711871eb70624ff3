import { compareStrings, type Change, type DiffResult, type Risk } from '@twinsync/sdk'
import { fileFingerprint, type AutostartChangeData, type AutostartOperation, type LiveFile } from './change.js'
import { parseMode, type AutostartEntry, type AutostartState, type RcLocal } from './state.js'
import { parseDesktopEntry } from './desktop-entry.js'
import { textDiff } from '@twinsync/sdk'

/**
 * Pure: the changes that turn the actual autostart files into the desired ones. Every file is
 * compared whole (content, mode, owner, group); the operation names what a person cares about:
 * an entry enabled or disabled, rc.local made executable or not.
 */
export function diffAutostart(desired: AutostartState, actual: AutostartState, provider: string): DiffResult {
  const want = new Map(desired.entries.map((e) => [e.path, e]))
  const have = new Map(actual.entries.map((e) => [e.path, e]))
  const changes: Change[] = []
  for (const path of [...new Set([...want.keys(), ...have.keys()])].sort(compareStrings)) {
    const d = want.get(path)
    const a = have.get(path)
    const change = fileChange(provider, path, entryFile(d), entryFile(a), riskOfEntry(d ?? a))
    if (change !== undefined) changes.push(change)
  }
  const rc = fileChange(provider, actual.rcLocal.path, rcLocalFile(desired.rcLocal), rcLocalFile(actual.rcLocal), 'high')
  if (rc !== undefined) changes.push(rc)
  return { changes, diagnostics: [] }
}

function entryFile(entry: AutostartEntry | undefined): LiveFile | undefined {
  return entry === undefined ? undefined : { content: entry.content, mode: entry.mode, owner: entry.owner, group: entry.group }
}

function rcLocalFile(rc: RcLocal): LiveFile | undefined {
  if (!rc.exists || rc.content === undefined) return undefined
  return { content: rc.content, mode: rc.mode ?? '0644', owner: rc.owner ?? 'root', group: rc.group ?? 'root' }
}

function fileChange(provider: string, path: string, desired: LiveFile | undefined, actual: LiveFile | undefined, risk: Risk): Change | undefined {
  if (desired === undefined && actual === undefined) return undefined
  const operation = operationOf(path, desired, actual)
  if (operation === undefined) return undefined
  const data: AutostartChangeData =
    desired === undefined
      ? { path, content: null, mode: actual?.mode ?? '0644', owner: actual?.owner ?? 'root', group: actual?.group ?? 'root' }
      : { path, content: desired.content, mode: desired.mode, owner: desired.owner, group: desired.group }
  const diff = desired?.content === actual?.content ? undefined : textDiff(path, actual?.content ?? '', desired?.content ?? '')
  return {
    id: `${provider}:${operation}:${path}`,
    provider,
    category: 'startup',
    operation,
    resource: path,
    summary: summaryOf(operation, path, desired, actual),
    before: describe(path, actual),
    after: describe(path, desired),
    ...(diff === undefined ? {} : { diff }),
    risk: operation === 'delete' && risk === 'low' ? 'medium' : risk,
    liveFingerprint: fileFingerprint(actual),
    data,
  }
}

function operationOf(path: string, d: LiveFile | undefined, a: LiveFile | undefined): AutostartOperation | undefined {
  if (d === undefined) return 'delete'
  if (a === undefined) return 'create'
  if (d.content !== a.content) {
    if (path.endsWith('.desktop')) {
      const before = parseDesktopEntry(a.content).enabled
      const after = parseDesktopEntry(d.content).enabled
      if (before !== after) return after ? 'enable' : 'disable'
    }
    return 'replace'
  }
  if (d.mode !== a.mode) return 'chmod'
  if (d.owner !== a.owner || d.group !== a.group) return 'chown'
  return undefined
}

/**
 * What the change does, in words. A chmod also changes the owner when that differs too (one
 * write or chmod and chown, apply.ts): said (session 45: a pulled autostart.json that gave bob's
 * entry to ann with mode 0666 read "set the mode of … to 0666"), and rc.local is "made
 * executable" only when it was not (0755 to 0757 read "make /etc/rc.local executable").
 */
function summaryOf(operation: AutostartOperation, path: string, d: LiveFile | undefined, a: LiveFile | undefined): string {
  switch (operation) {
    case 'create':
      return `create ${path}`
    case 'delete':
      return `remove ${path}`
    case 'enable':
      return `enable the autostart entry ${path}`
    case 'disable':
      return `disable the autostart entry ${path}`
    case 'replace':
      return `change ${path}`
    case 'chmod': {
      const executable = (parseMode(d?.mode ?? '0644') & 0o111) !== 0
      const was = a === undefined ? undefined : (parseMode(a.mode) & 0o111) !== 0
      const owner = d !== undefined && a !== undefined && (d.owner !== a.owner || d.group !== a.group) ? `, and its owner to ${d.owner}:${d.group}` : ''
      return path.endsWith('.desktop') || was === executable ? `set the mode of ${path} to ${d?.mode}${owner}` : `make ${path} ${executable ? 'executable' : 'not executable'} (mode ${d?.mode})${owner}`
    }
    case 'chown':
      return `set the owner of ${path} to ${d?.owner}:${d?.group}`
  }
}

function describe(path: string, file: LiveFile | undefined): string {
  if (file === undefined) return 'absent'
  const metadata = `${file.mode} ${file.owner}:${file.group}`
  if (!path.endsWith('.desktop')) return metadata
  return `${parseDesktopEntry(file.content).enabled ? 'enabled' : 'disabled'}, ${metadata}`
}

// A system entry starts for every user; one user's entry only for that user.
function riskOfEntry(entry: AutostartEntry | undefined): Risk {
  return entry?.scope === 'system' ? 'medium' : 'low'
}
