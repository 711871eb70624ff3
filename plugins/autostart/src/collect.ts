import { linkedFolderOn, ownHomesOnly, readUtf8OrReport, secretRuleInName, sortBy, twinsyncLines, warningDiagnostic, type Diagnostic, type FileStat, type HostPort, type ProviderContext, type TwinReader } from '@twinsync/sdk'
import { loadAutostart } from './load.js'
import { autostartDirs, locationOf } from './location.js'
import { describeEntries, describeRcLocal, sortIgnored, type DesktopFile, type RcLocalFile } from './model.js'
import { formatMode, RC_LOCAL, SYSTEM_AUTOSTART_DIR, type AutostartState, type IgnoredAutostartFile } from './state.js'
import { findRcLocalService } from './rc-local.js'
import { TargetAccounts } from './target-accounts.js'

export interface CollectedAutostart {
  state: AutostartState
  diagnostics: Diagnostic[]
}

export async function collectAutostart(ctx: ProviderContext, provider: string, previous?: TwinReader): Promise<CollectedAutostart> {
  const accounts = await TargetAccounts.read(ctx.host)
  const ignored: IgnoredAutostartFile[] = []
  const owned = (path: string) => ctx.claims.ownerOf(path) === provider

  const files: DesktopFile[] = []
  const held: Diagnostic[] = []
  // Not root: the system's folder and the running user's own home alone (ownHomesOnly, the SDK's rule).
  const own = ownHomesOnly()
  const dirs = own === undefined ? autostartDirs(await homeNames(ctx.host)) : autostartDirs(ownHomeName(accounts, own), false)
  for (const dir of dirs) {
    // A home's autostart folder that is, or is below, a symbolic link (a user's ~/.config/autostart
    // -> /root/...): reported as a whole, its names never listed (they would be another folder's).
    const linked = dir === SYSTEM_AUTOSTART_DIR ? undefined : await linkedFolderOn(ctx.host, dir, { inclusive: true })
    if (linked !== undefined) {
      ignored.push({ path: dir, reason: `not read: ${linked.folder === dir ? 'it is' : `it is below ${linked.folder},`} a symbolic link (to ${linked.target}); TwinSync reads nothing through a link` })
      continue
    }
    for (const entry of await readdirIfDir(ctx.host, dir)) {
      const path = `${dir}/${entry.name}`
      if (!entry.name.endsWith('.desktop') || !owned(path)) continue
      // A name that holds a secret would be a file name in the twin's commits (and the diary
      // line): held out, said by its folder and rule, never by the name (the SDK's one rule).
      const rule = await secretRuleInName(entry.name)
      if (rule !== undefined) {
        held.push(
          warningDiagnostic('AUTOSTART_NAME_SECRET', `An autostart entry in ${dir} has a name that holds a secret (${rule}); the twin leaves it out`, {
            path: dir,
            provider,
            detail: `A name reaches the twin's file names and the diary line. Nothing is planned for it either. Rename it (\`ls -la ${dir}\` shows it), then snapshot again.`,
          }),
        )
        continue
      }
      const read = await readRegularFile(ctx, path, ignored)
      if (read !== undefined) files.push({ path, ...metadata(read.stat, accounts), content: read.content, location: locationOf(path, accounts) })
    }
  }

  // Other users' homes (and root's) are not a non-root run's to read: their entries are unknown,
  // not gone, so they stay as the last snapshot recorded them (a root's plan must never take them
  // for removed), and the kept ones are said once.
  const kept: Diagnostic[] = []
  if (own !== undefined && previous !== undefined) {
    const ownHome = accounts.users.find((u) => u.uid === own)?.home
    const others = (await loadAutostart(previous, ctx.host, provider, twinsyncLines(ctx))).files.filter((f) => f.location.scope === 'user' && f.location.home !== ownHome)
    files.push(...others)
    if (others.length > 0) {
      kept.push(
        warningDiagnostic('AUTOSTART_UNREADABLE_KEPT', `${others.length} autostart ${others.length === 1 ? 'entry' : 'entries'} in other users' homes kept as the last snapshot recorded ${others.length === 1 ? 'it' : 'them'} (TwinSync runs as uid ${own}, not as root)`, {
          provider,
          path: others[0]?.path as string,
          detail: `Run TwinSync as root (\`${twinsyncLines(ctx, { sudo: true })(['snapshot'])}\`) to record and compare them.`,
        }),
      )
    }
  }

  let rcLocal: RcLocalFile | undefined
  if (owned(RC_LOCAL)) {
    const read = await readRegularFile(ctx, RC_LOCAL, ignored)
    if (read !== undefined) rcLocal = { ...metadata(read.stat, accounts), content: read.content, executable: (read.stat.mode & 0o111) !== 0 }
  }

  const state: AutostartState = {
    entries: describeEntries(files),
    rcLocal: describeRcLocal(rcLocal, await findRcLocalService(ctx.host)),
    ignored: sortIgnored(ignored),
  }
  const diagnostics = state.ignored.map((i) => warningDiagnostic('AUTOSTART_NOT_MIRRORED', `${i.path} is not mirrored: ${i.reason}`, { path: i.path, provider }))
  return { state, diagnostics: [...kept, ...held, ...diagnostics] }
}

function metadata(stat: FileStat, accounts: TargetAccounts) {
  return { mode: formatMode(stat.mode), owner: accounts.userName(stat.uid), group: accounts.groupName(stat.gid) }
}

// Only regular files are mirrored: a symlink would be written back as a file, and a huge file
// is not an autostart entry anyone wrote by hand.
async function readRegularFile(ctx: ProviderContext, path: string, ignored: IgnoredAutostartFile[]): Promise<{ stat: FileStat; content: string } | undefined> {
  const stat = await ctx.host.lstat(path)
  if (stat === undefined) return undefined
  if (stat.type !== 'file') {
    ignored.push({ path, reason: `a ${stat.type}, not a regular file` })
    return undefined
  }
  if (stat.size > ctx.limits.maxFileSize) {
    ignored.push({ path, reason: `larger than ${ctx.limits.maxFileSize} bytes` })
    return undefined
  }
  // Swapped for a link (or a FIFO) since the lstat, or reached through a linked folder (~/.config -> /etc):
  // reported, never read through (READ_REFUSED). A snapshot runs as root; the file is a user's.
  // One that is not UTF-8 is reported too, never decoded lossily: an apply writes the text back whole.
  const content = await readUtf8OrReport(ctx.host, path, (reason) => ignored.push({ path, reason }))
  return content === undefined ? undefined : { stat, content }
}

/** The running user's home as a /home name ([] when it is elsewhere: only /home/X/.config/autostart is autostart's). */
function ownHomeName(accounts: TargetAccounts, uid: number): string[] {
  const home = accounts.users.find((u) => u.uid === uid)?.home ?? ''
  const name = /^\/home\/([^/]+)\/?$/.exec(home)?.[1]
  return name === undefined ? [] : [name]
}

async function homeNames(host: HostPort): Promise<string[]> {
  return (await readdirIfDir(host, '/home')).filter((e) => e.type === 'directory').map((e) => e.name)
}

async function readdirIfDir(host: HostPort, dir: string) {
  const st = await host.stat(dir)
  return st?.type === 'directory' ? sortBy(await host.readdir(dir), (e) => e.name) : []
}
