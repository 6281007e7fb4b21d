#!/usr/bin/env bash
# Builds Pforte's container image with podman, offline (FROM scratch: deploy/container/Containerfile).
#
#   deploy/container/build.sh --release             # cargo build --release, then the image to ship
#   deploy/container/build.sh                        # from $PFORTE_BIN/$PFORTE_ADMIN_BIN, else target/debug
#   deploy/container/build.sh --release --tag registry.example.org/pforte:0.1.0
#   deploy/container/build.sh --storage DIR ...      # podman storage of its own in DIR (tests)
#
# Prints, as its last lines, `image NAME ID` and `size BYTES` (podman's figure for the image:
# the unpacked size of its one layer, which is what a node stores).
#
# --storage DIR keeps every podman file under DIR (--root, --runroot, the vfs driver, which needs
# no kernel overlay support, cgroupfs and a file for events, which need no systemd; the flags are
# written to DIR/podman-args for whatever goes on with that storage): the suite builds there
# without touching the machine's own images, and removes DIR afterwards. Without it the image
# lands in podman's usual storage, ready for `podman push`.
set -euo pipefail

die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }
say() { printf 'build.sh: %s\n' "$*" >&2; }
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
release=0
tag=""
storage=""
while [ $# -gt 0 ]; do
  case $1 in
    --release) release=1 ;;
    --tag) [ $# -ge 2 ] || usage; tag=$2; shift ;;
    --storage) [ $# -ge 2 ] || usage; storage=$2; shift ;;
    -h|--help) usage 0 ;;
    *) say "unknown argument: $1"; usage ;;
  esac
  shift
done
command -v podman >/dev/null || die "podman is missing (Debian: apt-get install podman)"

# A key of a TOML table, read with awk: the labels come from the files cargo builds from, so they
# cannot drift from the crates' own metadata.
toml_key() {   # $1 = file, $2 = table, $3 = key
  awk -v table="[$2]" -v key="$3" '
    /^\[/ { inside = ($0 == table) }
    inside && $1 == key && $2 == "=" { sub(/^[^=]*=[ \t]*"/, ""); sub(/".*$/, ""); print; exit }
  ' "$1"
}
version=$(toml_key "$repo/Cargo.toml" workspace.package version)
licenses=$(toml_key "$repo/Cargo.toml" workspace.package license)
source_url=$(toml_key "$repo/Cargo.toml" workspace.package repository)
description=$(toml_key "$repo/gateway/Cargo.toml" package description)
for v in version licenses source_url description; do
  [ -n "${!v}" ] || die "cannot read $v from Cargo.toml ([workspace.package]) or gateway/Cargo.toml ([package])"
done

target_dir=$(realpath -m "${CARGO_TARGET_DIR:-$repo/target}")
if [ "$release" = 1 ]; then
  say "cargo build --release (a few minutes the first time)"
  (cd "$repo" && CARGO_TARGET_DIR=$target_dir cargo build --release --bin pforte --bin pforte-admin)
  pforte=$target_dir/release/pforte
  admin=$target_dir/release/pforte-admin
else
  pforte=${PFORTE_BIN:-$target_dir/debug/pforte}
  admin=${PFORTE_ADMIN_BIN:-$target_dir/debug/pforte-admin}
fi
# A binary left from another checkout would get this one's labels: refuse a version mismatch.
for bin in "$pforte" "$admin"; do
  [ -x "$bin" ] || die "$bin is missing: cargo build --bins (or --release)"
  built=$("$bin" --version | awk '{print $2}')
  [ "$built" = "$version" ] || die "$bin says version $built, Cargo.toml says $version: rebuild it"
done
tag=${tag:-localhost/pforte:$version}

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH=$epoch
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

podman=(podman)
if [ -n "$storage" ]; then
  mkdir -p "$storage"
  storage=$(realpath "$storage")
  # podman refuses a runroot path longer than 50 characters; it holds only locks and a few
  # small files, so a long DIR gets one in the temporary folder (named in DIR/podman-args).
  runroot=$storage/run
  [ ${#runroot} -le 50 ] || runroot=$(mktemp -d "${TMPDIR:-/tmp}/pforte-podman.XXXXXX")
  podman+=(--root "$storage/root" --runroot "$runroot" --storage-driver vfs
           --cgroup-manager cgroupfs --events-backend file --tmpdir "$runroot/libpod")
  # For the scripts that go on with this storage (tests/deploy/image.sh): the same flags.
  printf '%s\n' "${podman[@]:1}" > "$storage/podman-args"
fi

# The build context: the Containerfile and the staged root file system, nothing else.
mkdir -p "$target_dir"
context=$(mktemp -d "$target_dir/container-context.XXXXXX")
trap 'rm -rf "$context"' EXIT
"$repo/deploy/container/stage-rootfs.sh" "$context" "$pforte" "$admin" >/dev/null
cp "$repo/deploy/container/Containerfile" "$context/Containerfile"

# The same facts as labels (the image config: podman inspect, Kubernetes tooling) and as
# annotations (the OCI manifest: what registries show).
facts=(
  "org.opencontainers.image.title=pforte"
  "org.opencontainers.image.description=$description"
  "org.opencontainers.image.version=$version"
  "org.opencontainers.image.source=$source_url"
  "org.opencontainers.image.licenses=$licenses"
  "org.opencontainers.image.revision=$revision"
  "org.opencontainers.image.created=$created"
)
annotations=()
for fact in "${facts[@]}"; do annotations+=(--annotation "$fact"); done

say "building $tag from $pforte and $admin"
"${podman[@]}" build --quiet --format oci --layers=false --pull=never --network none \
  --timestamp "$epoch" \
  --build-arg "VERSION=$version" --build-arg "SOURCE=$source_url" \
  --build-arg "LICENSES=$licenses" --build-arg "DESCRIPTION=$description" \
  --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
  "${annotations[@]}" --tag "$tag" --file "$context/Containerfile" "$context" >/dev/null

id=$("${podman[@]}" image inspect --format '{{.Id}}' "$tag")
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$tag")
echo "image $tag $id"
echo "size $size"
