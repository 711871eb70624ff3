import { compareStrings, mirrorPath, sortBy, stableStringify, type TwinDocument } from '@twinsync/sdk'
import { parseDesktopEntry } from './desktop-entry.js'
import {
  AUTOSTART_JSON,
  RC_LOCAL_JSON,
  SYSTEM_AUTOSTART_DIR,
  type AutostartEntry,
  type AutostartState,
  type IgnoredAutostartFile,
  type RcLocal,
} from './state.js'
import type { EntryLocation } from './location.js'
import { interpreterOf, wouldRun, type RcLocalService } from './rc-local.js'

/** A .desktop file as read from the machine or the twin, before it is described. */
export interface DesktopFile {
  path: string
  content: string
  mode: string
  owner: string
  group: string
  location: EntryLocation
}

/** Describe each .desktop file; sorted by path, user entries linked to the system entry they override. */
export function describeEntries(files: readonly DesktopFile[]): AutostartEntry[] {
  const systemPaths = new Set(files.filter((f) => f.location.scope === 'system').map((f) => f.path))
  return sortBy(files, (f) => f.path).map((file) => {
    const parsed = parseDesktopEntry(file.content)
    const fileName = file.path.slice(file.path.lastIndexOf('/') + 1)
    const overridden = `${SYSTEM_AUTOSTART_DIR}/${fileName}`
    const entry: AutostartEntry = {
      path: file.path,
      scope: file.location.scope,
      name: parsed.name ?? fileName.replace(/\.desktop$/, ''),
      exec: parsed.exec ?? '',
      enabled: parsed.enabled,
      hidden: parsed.hidden,
      onlyShowIn: parsed.onlyShowIn,
      notShowIn: parsed.notShowIn,
      mode: file.mode,
      owner: file.owner,
      group: file.group,
      content: file.content,
    }
    if (file.location.user !== undefined) entry.user = file.location.user
    if (parsed.gnomeAutostartEnabled !== undefined) entry.gnomeAutostartEnabled = parsed.gnomeAutostartEnabled
    if (file.location.scope === 'user' && systemPaths.has(overridden)) entry.overrides = overridden
    return entry
  })
}

export interface RcLocalFile {
  content: string
  mode: string
  owner: string
  group: string
  executable: boolean
}

export function describeRcLocal(file: RcLocalFile | undefined, service: RcLocalService): RcLocal {
  const base = { path: '/etc/rc.local' as const, serviceMasked: service.masked, ...(service.service === undefined ? {} : { service: service.service }) }
  if (file === undefined) return { ...base, exists: false, executable: false, wouldRun: false }
  const interpreter = interpreterOf(file.content)
  return {
    ...base,
    exists: true,
    executable: file.executable,
    ...(interpreter === undefined ? {} : { interpreter }),
    wouldRun: wouldRun({ exists: true, executable: file.executable, interpreter, service: service.service, masked: service.masked }),
    mode: file.mode,
    owner: file.owner,
    group: file.group,
    content: file.content,
  }
}

/** The twin documents of a state: the mirrored files, autostart.json and rc-local.json (without contents). */
export function autostartDocuments(state: AutostartState): TwinDocument[] {
  const { content: rcContent, ...rcLocal } = state.rcLocal
  const documents: TwinDocument[] = state.entries.map((e) => ({ path: mirrorPath(e.path), content: e.content }))
  if (rcContent !== undefined) documents.push({ path: mirrorPath(state.rcLocal.path), content: rcContent, executable: state.rcLocal.executable })
  documents.push({ path: AUTOSTART_JSON, content: stableStringify({ entries: state.entries.map(({ content: _content, ...entry }) => entry), ignored: state.ignored }) })
  documents.push({ path: RC_LOCAL_JSON, content: stableStringify(rcLocal) })
  return documents.sort((a, b) => compareStrings(a.path, b.path))
}

export function sortIgnored(ignored: readonly IgnoredAutostartFile[]): IgnoredAutostartFile[] {
  return sortBy(ignored, (i) => i.path)
}
