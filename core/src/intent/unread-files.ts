import type { ApplicableProvider, TwinReader } from '@twinsync/sdk'
import { visibleName } from '../plan/command-text.js'
import { UNREAD_FILE_NOT_APPLIED, type OwnedPlace } from './description-edits.js'

/**
 * The twin reader a provider's load is handed, noting every path it asks for by name (read,
 * readText, sizeOf, blobOf). A listing is no read: a load that lists a folder and passes a file
 * over (a name it does not take) has not read it.
 */
export function recordingReader(twin: TwinReader, seen: Set<string>): TwinReader {
  const sizeOf = twin.sizeOf
  const blobOf = twin.blobOf
  const executableOf = twin.executableOf
  const observedExecutableOf = twin.observedExecutableOf
  return {
    ...(executableOf === undefined ? {} : { executableOf: (path: string) => executableOf.call(twin, path) }),
    ...(observedExecutableOf === undefined ? {} : { observedExecutableOf: (path: string) => observedExecutableOf.call(twin, path) }),
    read: (path) => {
      seen.add(path)
      return twin.read(path)
    },
    readText: (path) => {
      seen.add(path)
      return twin.readText(path)
    },
    list: (prefix) => twin.list(prefix),
    ...(sizeOf === undefined
      ? {}
      : {
          sizeOf: (path: string) => {
            seen.add(path)
            return sizeOf.call(twin, path)
          },
        }),
    ...(blobOf === undefined
      ? {}
      : {
          blobOf: (path: string) => {
            seen.add(path)
            return blobOf.call(twin, path)
          },
        }),
  }
}

/**
 * The one rule of a file in an applying provider's part of the twin that its load does not read
 * (a note left in system/files/, a file beside a provider's documents, one under a folder a
 * provider claims that it passes over): of the edited `paths` the intended twin holds, those its
 * load (which succeeded) never asked for. Nothing compares or applies such a file, so its domain
 * plans nothing for it; before session 40 the next snapshot took that for an edit done and
 * removed the file without a word. Now it is a whole document kept pending (settle keeps it on
 * top of each snapshot), named by status and plan, dropped by `discard`, never applied.
 */
export function unreadPlaces(provider: ApplicableProvider, paths: readonly string[], present: (path: string) => boolean, seen: ReadonlySet<string>): OwnedPlace[] {
  return paths
    .filter((path) => present(path) && !seen.has(path))
    .map((path) => ({
      path,
      at: [],
      provider,
      nextStep: `${visibleName(path)} lies in the ${provider.name} provider's part of the twin, and ${provider.name} does not read it: nothing compares or applies it. Move it out of system/ and filesystem/ (a folder of your own at the twin's top, such as notes/, is kept as it is)`,
      kept: { code: UNREAD_FILE_NOT_APPLIED, reason: `never applied: ${provider.name} does not read this file` },
    }))
}
