import Type from 'typebox'
import { lazySchema } from '@twinsync/sdk'

export const EntryType = lazySchema(() => Type.Union([Type.Literal('file'), Type.Literal('directory'), Type.Literal('symlink')]))
export type EntryType = Type.Static<ReturnType<typeof EntryType>>

export const ContentKindSchema = lazySchema(() => Type.Union([
  Type.Literal('mirrored'),
  Type.Literal('binary'),
  Type.Literal('too-large'),
  Type.Literal('secret'),
]))

export const Origin = lazySchema(() => Type.Union([
  Type.Literal('package-unmodified'),
  Type.Literal('package-modified'),
  Type.Literal('local'),
]))
export type Origin = Type.Static<ReturnType<typeof Origin>>

/**
 * One path of the machine as the manifest records it: everything Git cannot hold. Optional keys
 * are left out when they do not apply, so the manifest reads like `ls -l`.
 */
export const ManifestEntry = lazySchema(() => Type.Object(
  {
    path: Type.String({ pattern: '^/' }),
    type: EntryType(),
    /** Four octal digits including setuid, setgid and sticky: "0440", "4755", "1777". */
    mode: Type.String({ pattern: '^[0-7]{4}$' }),
    /** Owner name from the target's /etc/passwd; the uid alone when it has no name there. */
    owner: Type.Optional(Type.String()),
    uid: Type.Integer({ minimum: 0 }),
    group: Type.Optional(Type.String()),
    gid: Type.Integer({ minimum: 0 }),
    /** Regular files: size in bytes. */
    size: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Regular files: how the content is kept (see ContentKind). */
    content: Type.Optional(ContentKindSchema()),
    /** sha256 of the content; never for a secret. */
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    /** Symlinks: the link's target, as written (not resolved). */
    target: Type.Optional(Type.String()),
    /** Directories: true when it has no entries at all (Git cannot keep an empty folder). */
    empty: Type.Optional(Type.Boolean()),
    secret: Type.Optional(Type.Literal(true)),
    /** Why it is secret: "path rule", a detector rule ("private-key", "credential-assignment"…), "root-only, content not checked", "binary, not world-readable". */
    secretReason: Type.Optional(Type.String()),
    /** Secrets: an HMAC-SHA256 of the content under a key that never leaves the machine, so a change shows without the content. */
    secretHash: Type.Optional(Type.String({ pattern: '^hmac-sha256:[0-9a-f]{64}$' })),
    /** Files under /etc: does dpkg know this file, and is it as the package shipped it? */
    origin: Type.Optional(Origin()),
    package: Type.Optional(Type.String()),
    /** dpkg-divert: the path this file was diverted from, when it is a diverted package file. */
    divertedFrom: Type.Optional(Type.String()),
    /** File capabilities as getcap prints them: "cap_net_raw=ep". */
    capabilities: Type.Optional(Type.String()),
    /** Extended attributes (including POSIX ACLs as system.posix_acl_*), values as getfattr -e base64 prints them. */
    xattrs: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
))
export type ManifestEntry = Type.Static<ReturnType<typeof ManifestEntry>>

/**
 * system/files/manifest.json. Version 1: every collected path is in `entries`. Version 2 (a
 * machine with SPLIT_FROM entries or more, manifest.ts): the entries are in the part documents
 * under system/files/manifest/, and `entries` here holds only what a person adds (they win).
 */
export const Manifest = lazySchema(() => Type.Object(
  {
    version: Type.Union([Type.Literal(1), Type.Literal(2)]),
    /** Every collected path, sorted (version 1); entries that win over the parts' (version 2). */
    entries: Type.Array(ManifestEntry()),
    /** *.dpkg-dist, *.ucf-old… found beside conffiles: not mirrored, listed so they are seen. */
    leftovers: Type.Array(Type.String()),
  },
  { additionalProperties: false },
))
export type Manifest = Type.Static<ReturnType<typeof Manifest>>

/** system/files/manifest/NN.json: the entries whose folder's hash is NN (manifest.ts, partOf). */
export const ManifestPart = lazySchema(() => Type.Object({ entries: Type.Array(ManifestEntry()) }, { additionalProperties: false }))
export type ManifestPart = Type.Static<ReturnType<typeof ManifestPart>>

/** A manifest entry plus, for mirrored files, the text itself. */
export const FileEntry = lazySchema(() => Type.Object(
  {
    ...ManifestEntry().properties,
    text: Type.Optional(Type.String()),
    /**
     * Load only, never in the manifest: the twin's document for this file is this many bytes,
     * more than maxFileSize, so it was not read (TwinReader.sizeOf) and is never applied: the
     * diff plans its change as `too-large`, which the provider's scope leaves out, named.
     */
    oversized: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * Load only, never in the manifest: the twin holds a document of this many bytes for a file
     * the manifest lists as one whose content the twin never holds (secret, binary, too large).
     * A snapshot never writes one, so a person or a pull put it there. Its content is not taken
     * (nor its text kept): the diff plans its change as `not-mirrored`, which the provider's scope
     * leaves out, named (scope.ts's notMirrored): pending until discarded, never applied.
     */
    unmirroredDocument: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * Load only, never in the manifest: the twin's document for this file, of this many bytes, is
     * not UTF-8 text (or holds a NUL byte), which no snapshot writes for a mirrored file (collect
     * records such a file as binary), so a person or a pull put it there. Not taken: the diff plans
     * its change as `not-text`, which the provider's scope leaves out, named (scope.ts's notText):
     * pending until discarded, never applied.
     */
    notText: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * Load only: the manifest lists this path as a folder or a symlink, and the twin holds a
     * document for it, which wins (a file). Between two twins, where the last snapshot had a file
     * there, that is the manifest's type edit left unapplied (unapplied.ts names it).
     */
    listedAs: Type.Optional(EntryType()),
    /** Load only, with `notText` (0): the twin's document for this file is a symlink, never followed. */
    symlinkDocument: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
))
export type FileEntry = Type.Static<ReturnType<typeof FileEntry>>

export const FilesState = lazySchema(() => Type.Object(
  {
    entries: Type.Array(FileEntry()),
    leftovers: Type.Array(Type.String()),
    /** The target's user and group names, so a name in the twin resolves to the target's id. */
    accounts: Type.Object({
      users: Type.Record(Type.String(), Type.Integer()),
      groups: Type.Record(Type.String(), Type.Integer()),
    }),
    /**
     * A live collect's paths it could not read (EACCES, EIO, ELOOP…; never a path gone), sorted:
     * each one and everything below it is unknown, not changed. Its entries are the last
     * snapshot's when the collect had it (a snapshot), else none; a plan changes nothing there
     * (diff.ts). Absent when every path was read; never in the twin.
     */
    unread: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
))
export type FilesState = Type.Static<ReturnType<typeof FilesState>>

export const MANIFEST_PATH = 'system/files/manifest.json'
/** The folder of the manifest's part documents (a manifest of version 2). */
export const PARTS_DIR = 'system/files/manifest/'

/**
 * `systemctl mask` links a unit name in /etc/systemd/system to /dev/null. That link is the
 * unit's state ("masked"), which the systemd provider records and changes with systemctl; the
 * files provider neither mirrors nor applies it, so a mask is one service change, not a file.
 */
export function isUnitMaskLink(entry: { path: string; type: string; target?: string }): boolean {
  return entry.type === 'symlink' && entry.target === '/dev/null' && /^\/etc\/systemd\/system\/[^/]+$/.test(entry.path)
}
