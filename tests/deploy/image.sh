#!/usr/bin/env bash
# The container image as the suite checks it (tests/e2e/deploy/image.rs): built from the suite's
# debug binaries (deploy/container/build.sh, stripped copies; no release build, which would add
# minutes), in a podman storage of its own under WORKDIR, then taken apart for a chroot, since
# no container can be started on the test machines:
#
#   tests/deploy/image.sh WORKDIR
#
# Leaves in WORKDIR: image.json (podman image inspect), rootfs.tar (podman create + podman
# export of the image) and build.out (build.sh's output: `image NAME ID`, `size BYTES`). The
# container, the image and the whole podman storage are removed on any exit.
set -euo pipefail

die() { printf 'image.sh: %s\n' "$*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: tests/deploy/image.sh WORKDIR"
work=$(realpath -m "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work"
storage=$work/storage
tag=localhost/pforte-e2e:$$
podman=()
cleanup() {
  local rc=$?
  # Also when build.sh failed half-way: it writes the flags as soon as it has chosen them.
  if [ ${#podman[@]} -eq 0 ] && [ -f "$storage/podman-args" ]; then
    mapfile -t podman < "$storage/podman-args"
  fi
  if [ ${#podman[@]} -gt 0 ]; then
    podman "${podman[@]}" rm --force --ignore pforte-e2e-$$ >/dev/null 2>&1 || true
    podman "${podman[@]}" rmi --force "$tag" >/dev/null 2>&1 || true
  fi
  # build.sh may have put the runroot in the temporary folder (podman wants a short path).
  for i in "${!podman[@]}"; do
    [ "${podman[$i]}" != --runroot ] || rm -rf "${podman[$((i + 1))]}"
  done
  rm -rf "$storage"
  exit "$rc"
}
trap cleanup EXIT

"$repo/deploy/container/build.sh" --storage "$storage" --tag "$tag" > "$work/build.out"
mapfile -t podman < "$storage/podman-args"
podman "${podman[@]}" image inspect "$tag" > "$work/image.json"
# Created, never started: export needs only the container's file system.
podman "${podman[@]}" create --name "pforte-e2e-$$" --network none "$tag" >/dev/null
podman "${podman[@]}" export --output "$work/rootfs.tar" "pforte-e2e-$$"
cat "$work/build.out"
