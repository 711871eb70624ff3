#!/usr/bin/env bash
# Build (once) and cache a Debian root file system for the test bed.
#
# Prints the path of the cached tarball (tar --zstd) on stdout as its last line. When the cache
# already holds it, this returns at once. Safe to run concurrently: one builder of a flavour takes
# that flavour's lock, the others wait for it and then find the finished tarball; different
# flavours build at the same time (test/bed/prebuild-roots.sh starts them all on CI).
#
#   build-rootfs.sh           the base root: Debian 12 (bookworm), minbase + systemd, cron, git
#   build-rootfs.sh server    a realistic server: Debian 13 (trixie) with nginx serving a site,
#                             postgresql, postfix, openssh-server, sudo, cron, unattended-upgrades
#   build-rootfs.sh server-node   the server root plus Debian's own nodejs and npm (for installing
#                             TwinSync the README's way inside) and hello's .deb in apt's cache
#   build-rootfs.sh checkers  the server root plus every other service whose configuration checker
#                             is in the service table (sdk/src/debian-services.ts), to judge each
#                             checker inside the sandbox against outside it
#
# Env:
#   TWINSYNC_TEST_CACHE   cache directory (default /var/cache/twinsync-test)
#   TWINSYNC_TEST_MIRROR  Debian mirror to use (default: the first one in the host's apt sources)
set -euo pipefail

FLAVOUR=${1:-base}

# Sets the recipe variables of a flavour. A derived flavour (FROM set) starts from another
# flavour's cached tarball instead of debootstrap and installs EXTRA on top.
set_flavour() {
  VARIANT=minbase
  FROM=
  EXTRA=
  DOWNLOAD=
  case "$1" in
    base)
      SUITE=bookworm
      # The only list of extra packages; the cache key is derived from it. Keep it short:
      #   systemd,systemd-sysv,dbus  a real init and `systemctl` inside booted containers
      #   cron                       the cron provider's tests (crontab, @reboot jobs)
      #   git                        twinsync keeps its twin in a Git repository, also inside a container
      PACKAGES=systemd,systemd-sysv,cron,dbus,git
      # Installed with apt-get inside the tree after debootstrap (none for the base root).
      SERVICES=
      # Bump when the recipe below changes in a way that changes the result.
      RECIPE=2
      ;;
    server)
      SUITE=trixie
      PACKAGES=systemd,systemd-sysv,cron,dbus,git,sudo,openssh-server
      # Services a Debian server commonly runs, installed the way an administrator would (apt-get,
      # no recommends, service starts denied while building): their maintainer scripts run, so
      # the configuration, users and unit links are the packages' own. curl asks nginx from inside.
      SERVICES="nginx postgresql postfix unattended-upgrades curl"
      RECIPE=1
      ;;
    server-node)
      SUITE=trixie
      FROM=server
      # Debian 13's own Node.js (20.19) and npm, as the README tells an administrator to install
      # them (`apt-get install --no-install-recommends nodejs npm`; the recommends would add a
      # C/C++ toolchain for node-gyp, which TwinSync does not need).
      EXTRA="nodejs npm"
      # Downloaded into apt's cache, not installed: a server container has no network, and a
      # test installs it with apt-get there.
      DOWNLOAD=hello
      RECIPE=1
      ;;
    checkers)
      SUITE=trixie
      FROM=server
      # The services of the checker table that the server root lacks, installed as an
      # administrator would (no recommends, starts denied): apache2, haproxy, nftables, bind9,
      # unbound, dovecot, rsyslog, fail2ban, samba (testparm), squid, keepalived, logrotate,
      # chrony, dnsmasq, prosody. exim4 is left out: it conflicts with postfix (one MTA a machine).
      EXTRA="apache2 haproxy nftables bind9 unbound dovecot-core rsyslog fail2ban samba squid keepalived logrotate chrony dnsmasq prosody"
      RECIPE=1
      ;;
    *)
      printf 'build-rootfs: unknown flavour %s (base, server, server-node or checkers)\n' "$1" >&2
      exit 2
      ;;
  esac
}

CACHE_DIR=${TWINSYNC_TEST_CACHE:-/var/cache/twinsync-test}

log() { printf 'build-rootfs: [%ss] %s\n' "$SECONDS" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cache_key() {
  if [ -n "$FROM" ]; then
    # The parent's tarball name carries its own key: a new parent makes a new derived root.
    printf '%s\n' "from=$(basename "$(out_path_of "$FROM")")" "extra=$EXTRA" "download=$DOWNLOAD" "recipe=$RECIPE" \
      | sha256sum | cut -c1-16
    return
  fi
  # The base root's key predates the server flavour: its lines stay as they were.
  {
    printf '%s\n' "suite=$SUITE" "variant=$VARIANT" "packages=$PACKAGES" "recipe=$RECIPE"
    [ -z "$SERVICES" ] || printf '%s\n' "services=$SERVICES"
  } | sha256sum | cut -c1-16
}

# Never hard-code a registry host: use what this machine's apt already uses.
read_mirror() {
  local mirror=${TWINSYNC_TEST_MIRROR:-}
  if [ -z "$mirror" ]; then
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  fi
  if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
    mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list (or set TWINSYNC_TEST_MIRROR)"
  printf '%s\n' "$mirror"
}

# debootstrap mounts proc/sys (and may bind /dev) inside the target; if it dies half-way those
# mounts stay. Unmount everything below DIR before deleting it, and never cross into another
# file system while deleting, so the host's /dev or /proc can never be touched.
remove_tree() {
  local dir=$1 mnt
  [ -e "$dir" ] || return 0
  findmnt -rn -o TARGET | awk -v d="$dir" 'index($0, d "/") == 1' | sort -r | while read -r mnt; do
    umount -l "$mnt" || true
  done
  rm -rf --one-file-system -- "$dir"
}

build() {
  local out=$1 mirror work
  mirror=$(read_mirror)
  work=$(mktemp -d "$CACHE_DIR/.build-$FLAVOUR.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "remove_tree '$work'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ -n "$FROM" ]; then
    mkdir "$work/root"
    log "extracting the $FROM root"
    tar --zstd --numeric-owner --xattrs --xattrs-include='*' -xpf "$(out_path_of "$FROM")" -C "$work/root"
    install_extra "$work/root"
  else
    log "debootstrap $SUITE ($VARIANT, +$PACKAGES) from $mirror; takes about a minute"
    debootstrap --variant="$VARIANT" --include="$PACKAGES" "$SUITE" "$work/root" "$mirror" >&2 \
      || { tail -n 30 "$work/root/debootstrap/debootstrap.log" >&2 2>/dev/null || true; die "debootstrap failed"; }
    [ -z "$SERVICES" ] || install_services "$work/root"
  fi

  # The cached tree is meant to be booted: no policy-rc.d (the chroot helper adds one when it
  # needs it), no downloaded .debs (they only make the tarball bigger). The apt lists stay, so
  # `apt-get install` works without an `apt-get update` first.
  rm -f "$work/root/usr/sbin/policy-rc.d"
  rm -f "$work/root/var/cache/apt/archives/"*.deb
  # debootstrap copies the host's name; without the file a container is named by --machine.
  # (/etc/resolv.conf stays: apt in a chroot needs it; a booted container gets its own.)
  rm -f "$work/root/etc/hostname"
  [ -z "$DOWNLOAD" ] || in_tree "$work/root" "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --download-only $DOWNLOAD" \
    || die "apt-get --download-only $DOWNLOAD failed"

  log "packing the tree"
  tar --zstd --numeric-owner --xattrs --xattrs-include='*' -C "$work/root" -cf "$work/rootfs.tar.zst" .
  # Same file system as the cache dir, so the rename is atomic: readers see all or nothing.
  mv -f "$work/rootfs.tar.zst" "$out"
  remove_tree "$work"
  trap - EXIT
  log "cached $(du -h "$out" | cut -f1) in $out"
}

# Run a shell script chrooted into the tree, with /dev and /proc mounted in a private mount
# namespace (they vanish with the command, nothing stays mounted).
in_tree() {
  local root=$1 script=$2
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --propagation private -- sh -c '
    root=$1; shift
    mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" && exec chroot "$root" sh -c "$1"' \
    sh "$root" "$script" >&2 </dev/null
}

# The server flavour: install $SERVICES inside the fresh tree and give nginx a site of its own
# on port 8080 (the package's default site stays on port 80).
install_services() {
  local root=$1
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  log "apt-get install $SERVICES (in the tree); takes about a minute"
  in_tree "$root" '
    set -e
    export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
    printf "%s\n" "postfix postfix/main_mailer_type select Local only" "postfix postfix/mailname string server.test" \
      | debconf-set-selections
    apt-get update -q
    apt-get install -y -q --no-install-recommends '"$SERVICES"'
    apt-get clean' || die "apt-get install in the server tree failed"
  mkdir -p "$root/var/www/site"
  printf '<h1>TwinSync test site</h1>\n' >"$root/var/www/site/index.html"
  cat >"$root/etc/nginx/sites-available/site" <<'SITE'
server {
    listen 8080;
    listen [::]:8080;
    server_name site.test;
    root /var/www/site;
    index index.html;
    location / {
        try_files $uri $uri/ =404;
    }
}
SITE
  ln -s ../sites-available/site "$root/etc/nginx/sites-enabled/site"
  in_tree "$root" 'nginx -t' || die "nginx -t fails in the built server tree"
}

# A derived flavour: EXTRA installed in the parent's tree, with service starts denied.
install_extra() {
  local root=$1
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  # dpkg syncs every file it unpacks; a tree that is thrown away on failure does not need that
  # (npm alone is hundreds of small packages). Removed again below: the result is the same.
  printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/twinsync-build-unsafe-io"
  log "apt-get install --no-install-recommends $EXTRA (in a copy of the $FROM root); takes about a minute"
  in_tree "$root" '
    set -e
    export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
    apt-get update -q
    apt-get install -y -q --no-install-recommends '"$EXTRA"'
    apt-get clean' || die "apt-get install $EXTRA in the $FROM tree failed"
  rm -f "$root/etc/dpkg/dpkg.cfg.d/twinsync-build-unsafe-io"
}

# The cached tarball of a flavour (whether or not it exists yet).
out_path_of() {
  (
    set_flavour "$1"
    if [ "$1" = base ]; then
      printf '%s\n' "$CACHE_DIR/debian-$SUITE-$VARIANT-$(cache_key).tar.zst"
    else
      printf '%s\n' "$CACHE_DIR/debian-$SUITE-$1-$(cache_key).tar.zst"
    fi
  )
}

main() {
  [ "$(id -u)" = 0 ] || die "must run as root (debootstrap)"
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
  command -v zstd >/dev/null || die "zstd is missing: apt-get install -y zstd"
  mkdir -p "$CACHE_DIR"
  set_flavour "$FLAVOUR"
  local out
  out=$(out_path_of "$FLAVOUR")
  if [ ! -s "$out" ]; then
    # A derived root needs its parent first: built (or waited for) under the parent's own lock.
    if [ -n "$FROM" ] && [ ! -s "$(out_path_of "$FROM")" ]; then
      bash "${BASH_SOURCE[0]}" "$FROM" >/dev/null || die "the $FROM root (the parent of $FLAVOUR) failed to build"
    fi
    # One lock per flavour: two builders of one root never race, different roots build at
    # once. Whoever holds a flavour's lock knows that any .build-<flavour>.* dir is the remains
    # of a builder of it that was killed.
    exec 9>"$CACHE_DIR/.lock-$FLAVOUR"
    flock 9
    # Someone else may have built it while we waited for the lock.
    if [ ! -s "$out" ]; then
      for stale in "$CACHE_DIR/.build-$FLAVOUR".*; do
        if [ -e "$stale" ]; then remove_tree "$stale"; fi
      done
      sweep_old_builds
      build "$out"
    fi
    flock -u 9
  fi
  printf '%s\n' "$out"
}

# The cache-wide lock <cache>/.lock is what the bench's builders (test/bench/scale-root.ts,
# etckeeper.ts) hold around their .build.* dirs, as this script did before it locked per flavour.
# When nobody holds it, a .build.* dir is the remains of a killed builder: remove it.
sweep_old_builds() {
  (
    flock -n 8 || exit 0
    for stale in "$CACHE_DIR"/.build.*; do
      if [ -e "$stale" ]; then remove_tree "$stale"; fi
    done
  ) 8>"$CACHE_DIR/.lock"
}

main "$@"
