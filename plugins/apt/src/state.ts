import Type from 'typebox'
import { lazySchema } from '@twinsync/sdk'

/** One installed package as the twin records it. */
export const AptPackage = lazySchema(() => Type.Object(
  {
    /** Absent in an entry a person wrote: the archive's candidate version (collect always records the installed one). */
    version: Type.Optional(Type.String({ minLength: 1 })),
    architecture: Type.String({ minLength: 1 }),
    /** Installed on request (true) or pulled in as a dependency (false, apt's "Auto-Installed"). */
    manual: Type.Boolean(),
    /** dpkg selection "hold": apt neither upgrades nor removes it. */
    hold: Type.Boolean(),
    /** Written by a person, never by collect: install exactly `version`, not the archive's candidate. */
    pinVersion: Type.Optional(Type.Boolean()),
    /** dpkg status when it is not "installed" (unpacked, half-configured…): a broken or unfinished install. */
    status: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
))
export type AptPackage = Type.Static<ReturnType<typeof AptPackage>>

/**
 * The apt twin document (`system/packages/apt.json`). Packages are keyed by name, qualified with
 * ":arch" only for a foreign architecture (the way `apt-mark showmanual` prints them), so the
 * same package name installed for two architectures stays two entries.
 */
export const AptState = lazySchema(() => Type.Object(
  {
    nativeArchitecture: Type.String(),
    packages: Type.Record(Type.String(), AptPackage()),
  },
  { additionalProperties: false },
))
export type AptState = Type.Static<ReturnType<typeof AptState>>

export const APT_DOCUMENT = 'system/packages/apt.json'
