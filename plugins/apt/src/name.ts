import { TwinSyncError } from '@twinsync/sdk'

// Debian policy 5.6.1 for the name; an architecture qualifier as dpkg and apt accept it.
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9][a-z0-9-]*)?$/
// Debian policy 5.6.12: [epoch:]upstream[-revision] from these characters only.
const PACKAGE_VERSION = /^(?:[0-9]+:)?[A-Za-z0-9][A-Za-z0-9.+~:-]*$/

export function isValidPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name)
}

export function isValidPackageVersion(version: string): boolean {
  return PACKAGE_VERSION.test(version)
}

/** Refuse a name before it can reach a command line; it is passed as an argument, but apt reads suffixes and globs. */
export function checkPackageName(name: string): string {
  if (!isValidPackageName(name)) {
    throw new TwinSyncError('NAME_INVALID', `Not a valid Debian package name: ${JSON.stringify(name)}`, {
      nextStep: 'Package names are lower case letters, digits and + . - (Debian policy 5.6.1), optionally ":arch"; fix the twin or plan.',
      details: { name },
    })
  }
  return name
}

export function checkPackageVersion(name: string, version: string): string {
  if (!isValidPackageVersion(version)) {
    throw new TwinSyncError('NAME_INVALID', `Not a valid Debian version for ${name}: ${JSON.stringify(version)}`, {
      nextStep: 'A version is [epoch:]upstream[-revision] of letters, digits and . + ~ : - (Debian policy 5.6.12).',
      details: { name, version },
    })
  }
  return version
}
