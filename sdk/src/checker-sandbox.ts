/**
 * A sandbox for programs that read untrusted configuration as root: a service's own checker
 * (`nginx -t` runs an nginx `load_module`, haproxy a `lua-load`, rsyslog its modules) judges a
 * configuration the twin brings, which may come from a pulled remote. The checker must see the
 * target exactly as it is, so its verdict is the one the service would give, yet nothing it does
 * may last or leave the machine:
 *
 * - new mount, network, PID, IPC and UTS namespaces (`unshare`): no network but a loopback of
 *   its own, on which nothing listens; no other process to see or signal;
 * - the target seen through an overlay whose writable layer is a tmpfs (so is each file system
 *   mounted under it): what the checker writes (an error log, a pid file, anything a module it
 *   loads writes) is gone when it ends; /proc is its own (with /proc/sys read-only), /sys is
 *   read-only, /dev holds only null, zero, full, random, urandom and tty;
 * - every other mount of the namespace read-only, and the capabilities to undo any of that
 *   (mount, modules, raw I/O, ptrace, mknod, open by handle...) dropped from the bounding set
 *   (`setpriv`): a checker that leaves the chroot finds nothing it can write.
 *
 * What stays reachable: Unix sockets under the target's /run (the postgresql checker asks its
 * running cluster through one). When the sandbox cannot be made (no unshare or setpriv, not
 * root, a kernel without overlayfs, no `ip` to bring its loopback up), the caller is told why and
 * runs the checker as before.
 */

/** One mount of this process's mount namespace, from /proc/self/mountinfo. */
export interface MountPoint {
  path: string
  type: string
}

/** File systems shown read-only as they are (bound, never overlaid). */
const READ_ONLY_TYPES = new Set([
  'sysfs', 'cgroup', 'cgroup2', 'securityfs', 'debugfs', 'tracefs', 'bpf', 'pstore', 'configfs',
  'efivarfs', 'fusectl', 'hugetlbfs', 'mqueue', 'binfmt_misc', 'autofs', 'selinuxfs', 'nsfs', 'rpc_pipefs',
])

/** The exit code of the sandbox's own failure (the program never ran); its message starts with SANDBOX_FAILED. */
export const SANDBOX_EXIT = 120
export const SANDBOX_FAILED = 'twinsync-sandbox: '

/** Mount points as /proc/self/mountinfo lists them (octal escapes decoded), in mount order. */
export function parseMountInfo(text: string): MountPoint[] {
  const out: MountPoint[] = []
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    const dash = fields.indexOf('-')
    const path = fields[4]
    const type = dash === -1 ? undefined : fields[dash + 1]
    if (path === undefined || type === undefined) continue
    out.push({ path: path.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))), type })
  }
  return out
}

/**
 * How each mount under the target appears inside: `proc` a fresh /proc, `dev` a small /dev,
 * `ro` bound read-only, `cow` overlaid with a tmpfs layer. Mounts under /proc, /sys and /dev of
 * the target are left out (those three are made whole).
 */
export function sandboxMounts(root: string, mounts: readonly MountPoint[]): Array<{ source: string; inside: string; kind: 'proc' | 'dev' | 'ro' | 'cow' }> {
  const prefix = root === '/' ? '' : root
  const out = new Map<string, { source: string; inside: string; kind: 'proc' | 'dev' | 'ro' | 'cow' }>()
  for (const m of mounts) {
    if (m.path === root || !m.path.startsWith(`${prefix}/`)) continue
    const inside = m.path.slice(prefix.length)
    if (/^\/(?:proc|sys|dev)\//.test(inside)) continue
    const kind = inside === '/proc' || m.type === 'proc' ? 'proc' : inside === '/dev' ? 'dev' : READ_ONLY_TYPES.has(m.type) || inside === '/sys' ? 'ro' : 'cow'
    out.delete(inside)
    out.set(inside, { source: m.path, inside, kind })
  }
  // The target's own /dev (device nodes debootstrap made, or a mount): only the harmless ones.
  if (!out.has('/dev')) out.set('/dev', { source: `${prefix}/dev`, inside: '/dev', kind: 'dev' })
  return [...out.values()]
}

/**
 * Capabilities the checker never needs and a way out would: dropped before it runs. net_admin
 * stays: `nft -c` has the kernel judge the ruleset (a netlink transaction it does not commit) and
 * without it refuses every one ("Operation not permitted"); it acts only on the sandbox's own
 * network namespace, which it cannot leave (entering another one takes sys_admin).
 */
const DROPPED_CAPABILITIES = [
  'sys_admin', 'sys_module', 'sys_rawio', 'sys_ptrace', 'mknod', 'dac_read_search', 'sys_boot', 'sys_time',
  'bpf', 'perfmon', 'syslog', 'linux_immutable', 'mac_admin', 'mac_override', 'sys_pacct',
]

/**
 * The script run in the new namespaces: $1 the target root, $2 an empty scratch folder, $3 how
 * many mounts of the target follow (source, inside path, kind each), then the machine's
 * interfaces as an ip batch, then the program and its arguments. The mounts to make read-only
 * it reads itself, inside the namespace.
 */
const SCRIPT = String.raw`
fail() { printf '${SANDBOX_FAILED}%s\n' "$*" >&2; exit ${SANDBOX_EXIT}; }
R=$1 S=$2; shift 2
mount --make-rprivate / || fail "cannot make the mounts private"
# The mounts to make read-only: this namespace's own, read now that nothing propagates into it
# (unshare made its mounts private; so did the line above), before the sandbox mounts anything of
# its own. Before session 38 the list was TwinSync's mountinfo, read before the namespace was made:
# a mount made in between (a container, an automount, a person) stayed writable inside.
# As a table for one mount -a (speed: making the 20 mounts of this machine read-only one mount(8)
# at a time was about half of a sandboxed check, a median 551 ms against 259 ms for true under a
# load of 15 on 2 cores), each remount,bind,ro: mountinfo escapes a mount point's space, tab,
# newline and backslash in octal, as fstab wants them. mount -a skips / (the script remounts it by
# itself), and with no word and exit 0 an entry whose source and target match a mount already
# there: with "none" as the source, every mount whose source is "none" (tracefs) stayed writable
# (session 26's CI); no mount of a machine is named twinsync-remount-ro. What lies under /proc is
# hidden by the sandbox's own proc (unshare --mount-proc).
T=
{ while read -r _ _ _ _ at _; do
  case $at in /|/proc/*) ;; *) T="$T
twinsync-remount-ro $at none remount,bind,ro 0 0" ;; esac
done; } </proc/self/mountinfo || fail "cannot read the namespace's mounts"
mount -t tmpfs -o mode=0700,size=512m twinsync-check "$S" || fail "cannot mount a tmpfs"
mkdir "$S/m" "$S/u" "$S/w" || fail "cannot make the scratch folders"
mount -t overlay -o "nodev,lowerdir=$R,upperdir=$S/u,workdir=$S/w" twinsync-check "$S/m" || fail "cannot overlay $R"
n=$1; shift; i=0
while [ "$n" -gt 0 ]; do
  src=$1 at=$2 t="$S/m$2" kind=$3; shift 3; n=$((n - 1)); i=$((i + 1))
  [ -d "$t" ] || [ -f "$t" ] || continue
  case $kind in
    proc) { mount -t proc proc "$t" && mount --bind -o ro "$t/sys" "$t/sys"; } || fail "cannot mount $at"
      [ ! -e "$t/sysrq-trigger" ] || mount --bind -o ro "$t/sysrq-trigger" "$t/sysrq-trigger" || fail "cannot hide $at/sysrq-trigger";;
    dev) mount -t tmpfs -o mode=0755,size=1m,nosuid twinsync-dev "$t" || fail "cannot mount $at"
      cp -a /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty "$t/" || fail "cannot make the devices of $at";;
    ro) mount --bind -o ro "$src" "$t" || fail "cannot bind $at read-only";;
    cow) { [ -d "$src" ] && mkdir "$S/u$i" "$S/w$i" && mount -t overlay -o "nodev,lowerdir=$src,upperdir=$S/u$i,workdir=$S/w$i" twinsync-check "$t" 2>/dev/null; } ||
      mount --bind -o ro "$src" "$t" || fail "cannot show $at";;
  esac
done
# Every other mount read-only: / first (mount -a never takes /), then the rest in one mount(8)
# from the table read above; one by one if that fails, a failure told
# apart from a mount point no path reaches: hidden under a later mount (its path gone, or no
# mount point there), its folder then part of a mount made read-only here.
mount -o remount,bind,ro / || fail "cannot make / read-only"
printf '%s\n' "$T" >"$S/ro.fstab" || fail "cannot write the read-only table"
mount -a -T "$S/ro.fstab" >/dev/null 2>&1 || while read -r _ at _; do
  [ -n "$at" ] || continue
  printf 'twinsync-remount-ro %s none remount,bind,ro 0 0\n' "$at" >"$S/one.fstab" || fail "cannot write the read-only table"
  mount -a -T "$S/one.fstab" >/dev/null 2>&1 && continue
  p=$(printf '%s' "$at" | sed 's/\\\([0-7][0-7][0-7]\)/\\0\1/g') && p=$(printf '%b.' "$p") && p=${'$'}{p%.}
  [ ! -e "$p" ] || ! mountpoint -q "$p" || fail "cannot make $p read-only"
done <"$S/ro.fstab"
# The loopback up, as on any machine (postfix check wants an active interface); nothing listens on it.
ip link set lo up || fail "cannot bring the loopback up (is iproute2 installed?)"
# The machine's interfaces by name, with their addresses (see interfaceBatch): one ip(8) run.
[ -z "$1" ] || { printf '%s' "$1" >"$S/links.batch" && ip -force -batch "$S/links.batch" >/dev/null 2>&1; } || :
shift
{ mount --bind -o ro /proc/sys /proc/sys && mount -t tmpfs -o ro,size=4k twinsync-none /dev; } || fail "cannot hide /dev and /proc/sys"
cd "$S/m" || fail "cannot enter the overlay"
# Not exec: this shell stays PID 1 of the namespace and the checker runs as its child, as on the
# machine. A checker that is PID 1 behaves otherwise (rsyslogd -N1 says "enabling
# container-specific defaults" and takes them).
setpriv --bounding-set ${DROPPED_CAPABILITIES.map((c) => `-${c}`).join(',')} -- chroot "$S/m" "$@"
`

/** A network interface of the machine: its name and addresses with prefix length (`192.0.2.2/24`). */
export interface NetworkInterface {
  name: string
  addresses: string[]
}

/** Names `ip link add` takes: no slash, space or colon, at most 15 bytes; the loopback is the sandbox's own. */
function mirrored(interfaces: readonly NetworkInterface[]): NetworkInterface[] {
  return interfaces
    .filter((i) => i.name !== 'lo' && /^[A-Za-z0-9_.@-]{1,15}$/.test(i.name) && !i.name.startsWith('-'))
    .map((i) => ({ name: i.name, addresses: i.addresses.filter((a) => /^[0-9A-Fa-f.:]+\/\d{1,3}$/.test(a)) }))
}

/**
 * The machine's interfaces as commands for one `ip -force -batch` (which goes on past a failed
 * line): each made a dummy, or a bridge without ports where the kernel has no dummy driver (the
 * line that fails is skipped), brought up, with its addresses. They carry nothing out of the
 * sandbox; keepalived --config-test refuses a vrrp_instance on an interface it cannot find.
 * Speed: one ip(8) instead of three or more a link (about 20 ms of CPU for three links here).
 */
export function interfaceBatch(interfaces: readonly NetworkInterface[]): string {
  return mirrored(interfaces)
    .flatMap((l) => [`link add ${l.name} type dummy`, `link add ${l.name} type bridge`, `link set ${l.name} up`, ...l.addresses.map((a) => `addr add ${a} dev ${l.name}`)])
    .map((line) => `${line}\n`)
    .join('')
}

/**
 * The argument list that runs `command args` in the sandbox over `root`, for execution on the
 * host: `unshare ... -- sh -c SCRIPT ...`. `scratch` is an empty folder on the host that the
 * sandbox mounts its tmpfs on (it stays empty; remove it after). `interfaces`: the machine's,
 * shown inside as dummies.
 */
export function sandboxArgv(root: string, scratch: string, mounts: readonly MountPoint[], command: string, args: readonly string[], interfaces: readonly NetworkInterface[] = []): string[] {
  const inside = sandboxMounts(root, mounts)
  return [
    'unshare', '--mount', '--net', '--pid', '--ipc', '--uts', '--fork', '--kill-child', '--mount-proc', '--',
    'sh', '-c', SCRIPT, 'twinsync-sandbox', root, scratch,
    String(inside.length), ...inside.flatMap((m) => [m.source, m.inside, m.kind]),
    interfaceBatch(interfaces),
    command, ...args,
  ]
}

/**
 * Why a probe of the sandbox (made, then `true` run in it) failed, or undefined when it was made.
 * Only a probe is read this way, never a checker's run: a checker could print the same words to
 * be run again without the sandbox.
 */
export function sandboxFailure(exitCode: number | undefined, stderr: string): string | undefined {
  const said = new RegExp(`^${SANDBOX_FAILED}(.*)$`, 'm').exec(stderr)?.[1]
  if (exitCode === SANDBOX_EXIT && said !== undefined) return said
  // unshare could not make the namespaces (not root, or a kernel or container that forbids it).
  if (/^unshare: /m.test(stderr) && exitCode !== 0) return stderr.split('\n').find((l) => l.startsWith('unshare: '))
  if (/^setpriv: /m.test(stderr) && exitCode !== 0) return stderr.split('\n').find((l) => l.startsWith('setpriv: '))
  return undefined
}
