import { compareStrings, errorDiagnostic, xattrBytes, type Diagnostic } from '@twinsync/sdk'
import type { FileEntry } from './state.js'
import { parseMode } from './mode.js'
import { ACL_NAMES, aclText, aclWithMode, malformedCapabilities, malformedValue, refusedName } from './xattr-policy.js'

export const XATTR_REFUSED = 'XATTR_REFUSED'

/** What the twin asks for a path's extended attributes and capabilities, against the machine. */
export interface AttributesWanted {
  /** The twin and the machine differ (in what the twin may manage). */
  differs: boolean
  /** For the summary: "set user.note", "remove system.posix_acl_access", "capabilities none → cap_net_raw=ep". */
  words: string[]
  /** Capabilities change: a privilege grant, high risk. */
  capabilitiesDiffer: boolean
  /** The change's payload, when there is something to set: the final set, as apply gives it to the entry. */
  data: { xattrs?: Record<string, string>; capabilities?: string }
  /** XATTR_REFUSED errors: the plan is refused. */
  refused: Diagnostic[]
}

/**
 * The extended attributes and capabilities a file or directory should end with. `live` is the
 * machine's entry of the same type, or undefined when the entry is created (or replaces one of
 * another type). The twin manages `user.*`, POSIX ACLs and capabilities (see xattr-policy):
 *
 * - a name the twin may manage is set, changed or removed as the twin says;
 * - a name it may not manage (trusted.*, security labels) that the twin asks for with another
 *   value than the machine's is refused (XATTR_REFUSED); one the twin does not list is carried
 *   over from the machine, untouched;
 * - when nothing differs the payload is empty and apply carries everything over as it is.
 */
export function attributesWanted(desired: FileEntry, live: FileEntry | undefined): AttributesWanted {
  const none: AttributesWanted = { differs: false, words: [], capabilitiesDiffer: false, data: {}, refused: [] }
  if (desired.type === 'symlink') return none
  const mode = parseMode(desired.mode)
  // Speed (session 8): no extended attribute on either side and the same capabilities (nearly
  // every path) is what the general case below comes to, without its sets, sorts and copies: a
  // `plan` or `status` of the services root asks this of 616 entries (the files diff 2.9 → 2.3 ms
  // of CPU, fresh process, medians of 11, load 9).
  if (isEmpty(desired.xattrs) && isEmpty(live?.xattrs) && (desired.capabilities ?? '') === (live?.capabilities ?? '')) return none
  const want = withModeInAcl(desired.xattrs ?? {}, mode)
  const have = live?.xattrs ?? {}
  const words: string[] = []
  const refused: Diagnostic[] = []
  const refuse = (summary: string, name: string) =>
    refused.push(
      errorDiagnostic(XATTR_REFUSED, `${desired.path}: ${summary}`, {
        path: desired.path,
        provider: 'files',
        detail: `Take ${name} out of the entry of ${desired.path} in system/files/manifest.json (or give it the machine's value), then plan again; to set it anyway, do it on the machine yourself (setfattr -n ${name} -v VALUE ${desired.path}).`,
      }),
    )
  /** The set the entry ends with: the twin's managed names, the machine's others. */
  const final: Record<string, string> = {}
  for (const name of [...new Set([...Object.keys(want), ...Object.keys(have)])].sort(compareStrings)) {
    const inTwin = Object.hasOwn(want, name)
    const onMachine = Object.hasOwn(have, name)
    const reason = refusedName(name)
    if (!inTwin) {
      // Not the twin's to remove: carried over as it is.
      if (reason !== undefined) final[name] = have[name] as string
      else words.push(`remove ${name}`)
      continue
    }
    if (onMachine && xattrBytes(want[name] as string).equals(xattrBytes(have[name] as string))) {
      final[name] = want[name] as string
      continue
    }
    const verb = onMachine ? 'change' : 'set'
    if (reason !== undefined) {
      if (onMachine) final[name] = have[name] as string
      refuse(`the twin asks to ${verb} the extended attribute ${name}, which TwinSync does not set: ${reason}`, name)
      continue
    }
    const bad = malformedValue(name, want[name] as string)
    if (bad !== undefined) {
      refuse(`the twin's value of ${name} cannot be set: ${bad}`, name)
      if (onMachine) final[name] = have[name] as string
      continue
    }
    final[name] = want[name] as string
    const acl = ACL_NAMES.has(name) ? aclText(want[name] as string) : undefined
    words.push(`${verb} ${name}${acl === undefined ? '' : ` (${acl})`}`)
  }
  const wantCaps = desired.capabilities ?? ''
  const haveCaps = live?.capabilities ?? ''
  const capabilitiesDiffer = wantCaps !== haveCaps
  if (capabilitiesDiffer) {
    const bad = malformedCapabilities(wantCaps)
    if (bad !== undefined) refuse(`the twin's capabilities ${JSON.stringify(wantCaps)} cannot be set: ${bad}`, 'security.capability')
    else words.push(`capabilities ${haveCaps || 'none'} → ${wantCaps || 'none'}`)
  }
  const differs = words.length > 0
  const creating = live === undefined && (Object.keys(want).length > 0 || wantCaps !== '')
  return {
    differs,
    words,
    capabilitiesDiffer,
    refused,
    data: differs || creating ? { xattrs: final, capabilities: wantCaps } : {},
  }
}

function isEmpty(xattrs: Record<string, string> | undefined): boolean {
  if (xattrs === undefined) return true
  for (const _ in xattrs) return false
  return true
}

/** The twin's access ACL as its mode leaves it (see aclWithMode): a hand-edited mode wins. */
function withModeInAcl(xattrs: Record<string, string>, mode: number): Record<string, string> {
  const acl = xattrs['system.posix_acl_access']
  const adjusted = acl === undefined ? undefined : aclWithMode(acl, mode)
  return adjusted === undefined || adjusted === acl ? xattrs : { ...xattrs, 'system.posix_acl_access': adjusted }
}
