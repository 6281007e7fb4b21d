#!/usr/bin/env bash
# Stages the container image's whole root file system as one tar file, for the Containerfile's
# `ADD rootfs.tar /` (an image FROM scratch: nothing can be pulled on an offline build machine,
# and a distribution base would bring a shell, a package manager and their CVEs for nothing).
#
#   deploy/container/stage-rootfs.sh OUT_DIR PFORTE_BIN PFORTE_ADMIN_BIN
#
# Writes OUT_DIR/rootfs.tar holding only:
#   /usr/local/bin/pforte, /usr/local/bin/pforte-admin   stripped copies of the binaries given
#   the shared libraries `ldd` names for them, at the    the binaries are linked dynamically
#   paths it names, and the dynamic loader               against glibc (the toolchain here has no
#                                                        musl target, and a static glibc breaks
#                                                        name lookups through NSS)
#   /etc/ssl/certs/ca-certificates.crt                   the system's CA bundle: Pforte's TLS
#                                                        clients (LDAP, Redis, back-channel) read
#                                                        it through rustls-native-certs
#   /etc/passwd, /etc/group                              root and the user that runs Pforte,
#                                                        pforte (65532), so tools show a name
#   /etc/nsswitch.conf                                   name lookups from files, then DNS
#   /etc/pforte (empty), /var/lib/pforte (65532, 0750),  mount points for the config, a writable
#   /tmp (1777)                                          state folder, a temporary folder
# Every entry is owned by root except /var/lib/pforte; times are SOURCE_DATE_EPOCH (default: the
# last commit's), so the same inputs give the same tar.
set -euo pipefail

die() { printf 'stage-rootfs.sh: %s\n' "$*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: stage-rootfs.sh OUT_DIR PFORTE_BIN PFORTE_ADMIN_BIN"
out=$1; pforte=$2; admin=$3
for bin in "$pforte" "$admin"; do
  [ -x "$bin" ] || die "$bin is not an executable file (build it first: cargo build --bins)"
done
for tool in ldd strip tar; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian: libc-bin, binutils, tar)"
done
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$ca_bundle" ] || die "no CA bundle at $ca_bundle (Debian: apt-get install ca-certificates)"

# The user Pforte runs as: 65532 like distroless's "nonroot", far from any host's own users.
uid=65532

repo=$(cd "$(dirname "$0")/../.." && pwd)
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}

# Modes are set here, not inherited: a strict umask would leave folders the user cannot enter.
umask 022
mkdir -p "$out"
root=$out/rootfs
rm -rf "$root"
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/etc/pforte" "$root/var/lib/pforte" \
  "$root/tmp"
chmod 1777 "$root/tmp"
chmod 0750 "$root/var/lib/pforte"

# Stripped copies: the symbols and line tables are for debugging on the build machine, not for
# the image (they are most of a debug build's size).
strip --strip-all -o "$root/usr/local/bin/pforte" "$pforte"
strip --strip-all -o "$root/usr/local/bin/pforte-admin" "$admin"
chmod 0755 "$root/usr/local/bin/pforte" "$root/usr/local/bin/pforte-admin"

# The libraries: every "name => /path" line and the loader's own "/path (0x...)" line of ldd's
# output (the vDSO has no file). Each is copied, links followed, to the path the binary names, so
# the loader's built-in search path finds it without an ld.so.cache. A static binary needs none.
libs=""
for bin in "$pforte" "$admin"; do
  if listing=$(ldd "$bin" 2>&1); then
    libs+=$(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$listing")$'\n'
    # A library ldd cannot find would be missing from the image: refuse rather than ship it.
    if grep -q 'not found' <<<"$listing"; then die "ldd cannot find a library of $bin: $listing"; fi
    grep -qE '^\s*/.*/ld-linux[^/]*\.so' <<<"$listing" \
      || die "ldd names no dynamic loader (ld-linux*.so) for $bin: $listing"
  elif ! grep -q 'not a dynamic executable' <<<"$listing"; then
    die "ldd failed on $bin: $listing"
  fi
done
for lib in $(sort -u <<<"$libs"); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

cp -L "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$root/etc/ssl/certs/ca-certificates.crt"

cat > "$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
pforte:x:$uid:$uid:Pforte gateway:/var/lib/pforte:/sbin/nologin
EOF
cat > "$root/etc/group" <<EOF
root:x:0:
pforte:x:$uid:
EOF
# glibc's built-in default tries DNS before /etc/hosts; the orchestrator's /etc/hosts (and a
# Kubernetes pod's own name in it) comes first here.
cat > "$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"

# One tar, entries sorted, owners numeric: ADD keeps owners and modes from the archive, so no
# build step (no RUN: the image has no shell) has to chown anything.
tar_common=(--sort=name --numeric-owner "--mtime=@$epoch" --format=gnu)
tar --create --file="$out/rootfs.tar" "${tar_common[@]}" --owner=0 --group=0 \
  --exclude=./var/lib/pforte -C "$root" .
tar --append --file="$out/rootfs.tar" "${tar_common[@]}" --owner=$uid --group=$uid \
  --no-recursion -C "$root" ./var/lib/pforte
rm -rf "$root"
printf '%s\n' "$out/rootfs.tar"
