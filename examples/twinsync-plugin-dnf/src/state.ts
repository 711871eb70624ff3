import { Type, lazySchema, type Static } from '@twinsync/sdk'

// Each schema is built when first used (`X()`), not as this module loads: building one loads
// typebox, and TwinSync loads this plugin on every command, most of which (an unchanged snapshot,
// a machine without dnf) never check anything against these. See "What a plugin costs" in
// TwinSync's docs/plugin-authoring.md.

/** One installed rpm package, as the twin keeps it. */
export const DnfPackage = lazySchema(() =>
  Type.Object(
    {
      /** [epoch:]version-release, as rpm prints it ("1.0-1", "2:4.18.0-1.fc39"). */
      version: Type.String({ minLength: 1 }),
      arch: Type.String({ minLength: 1 }),
      /** Installed on purpose (dnf's reason "user"), not pulled in as a dependency. */
      userInstalled: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
)
export type DnfPackage = Static<ReturnType<typeof DnfPackage>>

/** What the dnf provider collects: the installed packages by name. */
export const DnfState = lazySchema(() => Type.Object({ packages: Type.Record(Type.String(), DnfPackage()) }, { additionalProperties: false }))
export type DnfState = Static<ReturnType<typeof DnfState>>

/** The provider's section of TwinSync's configuration file; defaults are filled in by the host. */
export const DnfConfig = lazySchema(() =>
  Type.Object(
    {
      /** How long one dnf transaction may take. */
      timeoutMs: Type.Integer({ minimum: 1000, default: 30 * 60_000 }),
      /** Passed as --releasever when set (a root without a system-release package needs it). */
      releasever: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]+$' })),
    },
    { additionalProperties: false },
  ),
)
export type DnfConfig = Static<ReturnType<typeof DnfConfig>>

export const TWIN_PATH = 'system/packages/dnf.json'

/**
 * Where dnf finds packages and the keys that sign them: the planner runs a plan's changes to
 * these paths (a new .repo file, its key) before the installs that need them.
 */
export const DNF_SOURCE_PATHS = ['/etc/yum.repos.d/', '/etc/pki/rpm-gpg/', '/etc/dnf/dnf.conf', '/etc/dnf/vars/']
