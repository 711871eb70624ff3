#!/usr/bin/env bash
# Build every cached root of the test bed at once (CI starts this in the background before
# npm ci, so the roots build while dependencies install and the unit tests run).
#
#   prebuild-roots.sh LOGDIR
#
# Each flavour's build-rootfs.sh writes its log to LOGDIR/<flavour>.log. The derived roots
# (server-node, checkers) wait for the server root under its lock, then build side by side; two
# builds of the same root never race (build-rootfs.sh locks per flavour), and a test that needs a
# root meanwhile waits for the same lock. Exits 1 naming every flavour that failed, with the end
# of its log; a root whose build failed here is built again by the first test that needs it.
set -uo pipefail

LOGDIR=${1:?usage: prebuild-roots.sh LOGDIR}
HERE=$(dirname "${BASH_SOURCE[0]}")
mkdir -p "$LOGDIR"

# The server root first: three of the four are it or built on it.
FLAVOURS=(server base server-node checkers)
declare -A PIDS
for flavour in "${FLAVOURS[@]}"; do
  {
    bash "$HERE/build-rootfs.sh" "$flavour" >"$LOGDIR/$flavour.log" 2>&1
    status=$?
    echo "$SECONDS" >"$LOGDIR/$flavour.seconds"
    exit "$status"
  } &
  PIDS[$flavour]=$!
done

failed=()
for flavour in "${FLAVOURS[@]}"; do
  if wait "${PIDS[$flavour]}"; then
    printf 'prebuild-roots: %s ready after %ss: %s\n' "$flavour" "$(cat "$LOGDIR/$flavour.seconds")" "$(tail -n 1 "$LOGDIR/$flavour.log")"
  else
    failed+=("$flavour")
  fi
done
for flavour in "${failed[@]}"; do
  printf 'prebuild-roots: building the %s root FAILED; the end of %s:\n' "$flavour" "$LOGDIR/$flavour.log" >&2
  tail -n 30 "$LOGDIR/$flavour.log" | sed 's/^/    /' >&2
done
[ "${#failed[@]}" -eq 0 ]
