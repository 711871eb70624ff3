import { isCapabilityText, xattrBytes, xattrValue } from '@twinsync/sdk'

/**
 * Which extended attributes a twin may set. The twin is untrusted input (it can arrive from a
 * mirror), so only what an administrator sets by hand on a Debian server is applied:
 *
 * - `user.*`: notes of people and programs;
 * - `system.posix_acl_access`, `system.posix_acl_default`: POSIX ACLs (setfacl);
 * - file capabilities (`capabilities` in the manifest, or a raw `security.capability`): setcap.
 *
 * Refused, as `XATTR_REFUSED` in the plan (nothing is applied):
 * - `trusted.*`: the kernel's and file systems' own bookkeeping (overlayfs redirects and opaque
 *   directories, glusterfs): it can make files appear elsewhere or hide them;
 * - other `security.*`: labels of the security module (SELinux, AppArmor, SMACK, IMA/EVM), set
 *   by its policy and tools (restorecon, chcon), never copied from a file;
 * - any other namespace.
 *
 * A refused attribute the machine already has as the twin says is not a change: it is carried
 * over when the file is rewritten.
 */
export const ACL_NAMES = new Set(['system.posix_acl_access', 'system.posix_acl_default'])

/** Why a twin may not ask for this attribute to be set or removed, or undefined when it may. */
export function refusedName(name: string): string | undefined {
  if (/[\0-\x1f\x7f=]/.test(name) || name.length > 255) return 'the name has a control character or "=", or is longer than 255 bytes'
  if (name.startsWith('user.') && name.length > 'user.'.length) return undefined
  if (ACL_NAMES.has(name) || name === 'security.capability') return undefined
  if (name.startsWith('trusted.')) return 'trusted.* attributes are the kernel\'s and file systems\' own (overlayfs, glusterfs)'
  if (name.startsWith('security.')) return 'security labels belong to the security module\'s policy and tools (restorecon, chcon)'
  return 'TwinSync sets only user.*, POSIX ACLs and file capabilities'
}

/** Why a value cannot be set, or undefined when it is well formed. */
export function malformedValue(name: string, value: string): string | undefined {
  if (!/^0s[A-Za-z0-9+/]*={0,2}$/.test(value) && !/^0x([0-9a-fA-F]{2})*$/.test(value) && /[\0\n]/.test(value)) return 'the value has a NUL byte or a line break'
  const bytes = xattrBytes(value)
  if (ACL_NAMES.has(name)) {
    // struct posix_acl_xattr_header (version 2) and 8-byte entries.
    if (bytes.length < 4 || (bytes.length - 4) % 8 !== 0 || bytes.readUInt32LE(0) !== 2) return 'not a POSIX ACL (getfattr -e base64 prints one as 0sAgAAAA…)'
  }
  if (name === 'security.capability' && ![12, 20, 24].includes(bytes.length)) return 'not a file capability (use the capabilities field, as getcap prints it)'
  if (bytes.length > 64 * 1024) return 'longer than the 64 KiB an extended attribute can hold'
  return undefined
}

export function malformedCapabilities(text: string): string | undefined {
  return text === '' || isCapabilityText(text) ? undefined : 'not a capability text as getcap prints it (cap_net_raw=ep)'
}

/**
 * An ACL as getfacl writes it, its entries on one line (`user::rw-,user:1000:r--,group::r--,
 * mask::r--,other::---`; a named entry by its id): what the change sets, shown with it. Session 45:
 * the plan said "set system.posix_acl_access" alone, whatever the ACL let whom do.
 */
export function aclText(value: string): string | undefined {
  const bytes = xattrBytes(value)
  if (bytes.length < 4 || (bytes.length - 4) % 8 !== 0 || bytes.readUInt32LE(0) !== 2) return undefined
  const tags: Record<number, string> = { 0x01: 'user', 0x02: 'user', 0x04: 'group', 0x08: 'group', 0x10: 'mask', 0x20: 'other' }
  const out: string[] = []
  for (let at = 4; at < bytes.length; at += 8) {
    const tag = bytes.readUInt16LE(at)
    const perm = bytes.readUInt16LE(at + 2)
    const named = tag === 0x02 || tag === 0x08 ? String(bytes.readUInt32LE(at + 4)) : ''
    out.push(`${tags[tag] ?? `tag${tag}`}:${named}:${perm & 4 ? 'r' : '-'}${perm & 2 ? 'w' : '-'}${perm & 1 ? 'x' : '-'}`)
  }
  return out.join(',')
}

/**
 * An access ACL as `chmod MODE` leaves it: the owner, mask (or owning group, without a mask) and
 * other entries follow the mode's bits (the kernel's posix_acl_chmod). A twin edited by hand can
 * give a mode that disagrees with its ACL; apply sets the ACL and then the mode, so this is the
 * ACL the file ends with. Undefined for bytes that are not an ACL.
 */
export function aclWithMode(value: string, mode: number): string | undefined {
  const bytes = Buffer.from(xattrBytes(value))
  if (bytes.length < 4 || (bytes.length - 4) % 8 !== 0 || bytes.readUInt32LE(0) !== 2) return undefined
  const tags: number[] = []
  for (let at = 4; at < bytes.length; at += 8) tags.push(bytes.readUInt16LE(at))
  const hasMask = tags.includes(0x10)
  for (let at = 4, i = 0; at < bytes.length; at += 8, i++) {
    const tag = tags[i]
    const bits = tag === 0x01 ? (mode >> 6) & 7 : tag === 0x10 || (tag === 0x04 && !hasMask) ? (mode >> 3) & 7 : tag === 0x20 ? mode & 7 : undefined
    if (bits !== undefined) bytes.writeUInt16LE(bits, at + 2)
  }
  return xattrValue(bytes)
}
