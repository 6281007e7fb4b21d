#!/usr/bin/env bash
# A throwaway 389 Directory Server (Debian's 389-ds-base) with the demo directory, for the tests.
# Called by deploy/dev/services.sh (start-389); usable alone:
#
#   deploy/dev/ds389.sh start DIR TLS    create (once) and start the instance under DIR
#
# TLS is the folder with the harness's private CA (ca.crt, ca.key) and its server certificate for
# localhost / 127.0.0.1 (server.crt, server.key), made by services.sh.
#
# Nothing of the distribution's /etc/dirsrv or /var is touched: dscreate runs with PREFIX=DIR and
# a copy of Debian's defaults.inf whose variable paths (config, database, logs, run, lock) point
# into DIR, with systemd off and the server running as the caller. The instance then listens on
# 127.0.0.1 only (ldap:// and ldaps:// on free ports, and an ldapi socket), with:
#   DIR/etc/dirsrv/slapd-pforte/   dse.ldif (cn=config), the NSS database with the harness's
#                                  certificate (Server-Cert) and CA, schema/99pforte.ldif
#   DIR/var/log/dirsrv/slapd-pforte/{access,errors}
#   DIR/ns-slapd.pid, DIR/port, DIR/ldaps_port, DIR/admin-password, DIR/service-password
# Data: deploy/ldap/demo.ldif with the passwords of deploy/ldap/passwords (389-DS hashes them
# itself), ACIs like the slapd's (the service account reads people and groups, never passwords,
# and writes only the second-factor attributes), and dave locked with nsAccountLock: TRUE (389-DS's
# own account lock: it refuses his binds too) besides his employeeType: disabled.
# Groups are groupOfNames with `member`; the memberOf plugin stays off (389-DS's memberOf would
# list nested groups flattened, so the gateway reads memberships with group_lookup = "member").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ldap_files=$(cd "$here/../ldap" && pwd)
export PATH=$PATH:/usr/sbin:/sbin
SUFFIX=dc=example,dc=org
INSTANCE=pforte
ROOTDN="cn=Directory Manager"
ROOTPW=directorypw          # dscreate wants at least 8 characters
SERVICE_DN=cn=pforte,ou=services,$SUFFIX
SERVICE_PW=pfortepw

log() { printf '[389-ds %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "$*"; exit 1; }
running() { kill -0 "$1" 2>/dev/null && ! grep -qs '^[0-9]* (.*) Z' "/proc/$1/stat"; }
pid_alive() { [ -f "$1" ] && running "$(cat "$1")"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() {   # $1 = tries of 0.1 s, rest = command
  local n=$1; shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# Sets attributes of entries in a dse.ldif (offline, the server stopped): each argument is
# "DN|attribute|value"; an existing attribute is replaced, a missing one added.
dse_set() {   # $1 = dse.ldif, rest = changes
  python3 - "$@" <<'PY'
import sys
path, changes = sys.argv[1], [c.split("|", 2) for c in sys.argv[2:]]
text = open(path, encoding="utf-8").read()
blocks = text.split("\n\n")
for i, block in enumerate(blocks):
    lines = block.replace("\n ", "").split("\n")
    dn = next((l[4:] for l in lines if l.lower().startswith("dn: ")), None)
    if dn is None:
        continue
    mine = [(a, v) for d, a, v in changes if d.lower() == dn.lower()]
    if not mine:
        continue
    for attr, value in mine:
        lines = [l for l in lines if not l.lower().startswith(attr.lower() + ":")]
        lines.append(f"{attr}: {value}")
    blocks[i] = "\n".join(lines)
open(path, "w", encoding="utf-8").write("\n\n".join(blocks))
PY
}

create() {   # $1 = instance dir, $2 = tls dir
  local dir=$1 tls=$2 config
  config=$dir/etc/dirsrv/slapd-$INSTANCE
  mkdir -p "$dir/share/dirsrv/inf" "$dir/etc/dirsrv/schema" "$dir/tmp"
  # Debian's defaults with every variable path moved under DIR.
  sed -e "s|^with_systemd = .*|with_systemd = 0|" \
      -e "s|^user = .*|user = $(id -un)|" -e "s|^group = .*|group = $(id -gn)|" \
      -e "s|= /etc/dirsrv|= $dir/etc/dirsrv|" -e "s|= /run/|= $dir/run/|" -e "s|= /var/|= $dir/var/|" \
      -e "s|^db_home_dir = .*|db_home_dir = $dir/var/lib/dirsrv/slapd-{instance_name}/db|" \
      -e "s|^sysconf_dir = .*|sysconf_dir = $dir/etc|" -e "s|^local_state_dir = .*|local_state_dir = $dir/var|" \
      -e "s|^initconfig_dir = .*|initconfig_dir = $dir/etc/default|" -e "s|^tmp_dir = .*|tmp_dir = $dir/tmp|" \
      -e "s|^inst_dir = .*|inst_dir = $dir/lib/dirsrv/slapd-{instance_name}|" \
      -e "s|^tmpfiles_d = .*|tmpfiles_d = $dir/etc/tmpfiles.d|" \
      /usr/share/dirsrv/inf/defaults.inf > "$dir/share/dirsrv/inf/defaults.inf"
  cp -r /etc/dirsrv/config "$dir/etc/dirsrv/"
  # Copied into the instance's schema folder by dscreate: the second-factor attributes.
  cp "$ldap_files/389ds-99pforte.ldif" "$dir/etc/dirsrv/schema/99pforte.ldif"
  local port ldaps
  port=$(free_port); ldaps=$(free_port)
  echo "$port" > "$dir/port"; echo "$ldaps" > "$dir/ldaps_port"
  cat > "$dir/instance.inf" <<INF
[general]
full_machine_name = localhost
start = False
strict_host_checking = False
[slapd]
instance_name = $INSTANCE
port = $port
secure_port = $ldaps
root_dn = $ROOTDN
root_password = $ROOTPW
self_sign_cert = False
[backend-userroot]
suffix = $SUFFIX
create_suffix_entry = True
sample_entries = no
INF
  PREFIX=$dir dscreate from-file "$dir/instance.inf" > "$dir/dscreate.log" 2>&1 ||
    die "dscreate failed; see $dir/dscreate.log"
  # The harness's certificate (CA-signed, for localhost and 127.0.0.1) instead of a self-signed one.
  openssl pkcs12 -export -inkey "$tls/server.key" -in "$tls/server.crt" -name Server-Cert \
    -out "$dir/server.p12" -passout pass:p12 2>/dev/null
  pk12util -i "$dir/server.p12" -d "sql:$config" -k "$config/pwdfile.txt" -W p12 >/dev/null
  certutil -A -d "sql:$config" -f "$config/pwdfile.txt" -n "Pforte test CA" -t CT,, -a -i "$tls/ca.crt"
  rm -f "$dir/server.p12"
  # Loopback only, TLS on, and a small database cache (the autosized one takes a quarter of RAM).
  dse_set "$config/dse.ldif" \
    "cn=config|nsslapd-listenhost|127.0.0.1" \
    "cn=config|nsslapd-securelistenhost|127.0.0.1" \
    "cn=config|nsslapd-security|on" \
    "cn=config|nsslapd-accesslog-logbuffering|off" \
    "cn=config,cn=ldbm database,cn=plugins,cn=config|nsslapd-cache-autosize|0" \
    "cn=bdb,cn=config,cn=ldbm database,cn=plugins,cn=config|nsslapd-cache-autosize|0" \
    "cn=bdb,cn=config,cn=ldbm database,cn=plugins,cn=config|nsslapd-dbcachesize|16777216"
}

seed() {   # $1 = instance dir, $2 = ldap url
  local dir=$1 url=$2 people="ou=people,$SUFFIX" groups="ou=groups,$SUFFIX" dn pw
  {
    # The suffix entry exists already (dscreate makes it, as a `domain`).
    awk -v suffix="dn: $SUFFIX" 'BEGIN {RS = ""; ORS = "\n\n"} index($0, suffix "\n") != 1' \
      "$ldap_files/demo.ldif" | grep -v '^#'
    cat <<LDIF

dn: $SUFFIX
changetype: modify
add: aci
aci: (targetattr = "*")(targetfilter = "(objectClass=domain)")(version 3.0; acl "Pforte - the base entry for every user"; allow (read, search, compare) userdn = "ldap:///all";)

dn: $people
changetype: modify
add: aci
aci: (targetattr != "userPassword || pforteTotp || pforteWebAuthn || pforteRecoveryCode")(version 3.0; acl "Pforte - people for every user"; allow (read, search, compare) userdn = "ldap:///all";)
aci: (targetattr = "nsAccountLock")(version 3.0; acl "Pforte - the account lock for the service account"; allow (read, search, compare) userdn = "ldap:///$SERVICE_DN";)
aci: (targetattr = "pforteTotp || pforteWebAuthn || pforteRecoveryCode")(version 3.0; acl "Pforte gateway - second factors"; allow (read, search, compare, write) userdn = "ldap:///$SERVICE_DN";)
aci: (targetattr = "objectClass")(targattrfilters = "add=objectClass:(objectClass=pforteAccount), del=objectClass:(objectClass=pforteAccount)")(version 3.0; acl "Pforte gateway - the pforteAccount class"; allow (write) userdn = "ldap:///$SERVICE_DN";)

dn: $groups
changetype: modify
add: aci
aci: (targetattr = "*")(version 3.0; acl "Pforte - groups for every user"; allow (read, search, compare) userdn = "ldap:///all";)

dn: uid=dave,$people
changetype: modify
add: nsAccountLock
nsAccountLock: TRUE
LDIF
    while read -r dn pw; do
      case $dn in ''|'#'*) continue ;; esac
      printf '\ndn: %s\nchangetype: modify\nreplace: userPassword\nuserPassword: %s\n' "$dn" "$pw"
    done < "$ldap_files/passwords"
  } > "$dir/demo-load.ldif"
  ldapmodify -a -x -H "$url" -D "$ROOTDN" -w "$ROOTPW" -f "$dir/demo-load.ldif" > "$dir/demo-load.log" 2>&1 ||
    die "loading the demo data failed; see $dir/demo-load.log"
  touch "$dir/seeded"
}

start() {   # $1 = instance dir, $2 = tls dir
  local dir=$1 tls=$2
  command -v dscreate >/dev/null && command -v ns-slapd >/dev/null ||
    die "missing dscreate/ns-slapd: apt-get install 389-ds-base"
  if pid_alive "$dir/ns-slapd.pid"; then log "389-ds already running (pid $(cat "$dir/ns-slapd.pid"))"; return; fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/etc/dirsrv/slapd-$INSTANCE/dse.ldif" ] || create "$dir" "$tls"
  local config=$dir/etc/dirsrv/slapd-$INSTANCE port ldaps
  port=$(cat "$dir/port"); ldaps=$(cat "$dir/ldaps_port")
  if ! port_free "$port" || ! port_free "$ldaps"; then   # taken since: move to new ones
    port=$(free_port); ldaps=$(free_port)
    echo "$port" > "$dir/port"; echo "$ldaps" > "$dir/ldaps_port"
    dse_set "$config/dse.ldif" "cn=config|nsslapd-port|$port" "cn=config|nsslapd-securePort|$ldaps"
  fi
  log "starting 389-ds on ldap://127.0.0.1:$port ldaps://127.0.0.1:$ldaps"
  # ns-slapd forks into the background itself and writes the pid file.
  setsid ns-slapd -D "$config" -i "$dir/ns-slapd.pid" </dev/null >>"$dir/ns-slapd.out" 2>&1
  wait_for 300 ldapsearch -x -H "ldap://127.0.0.1:$port" -b '' -s base -LLL vendorName ||
    die "389-ds did not come up; see $dir/var/log/dirsrv/slapd-$INSTANCE/errors"
  wait_for 50 pid_alive "$dir/ns-slapd.pid" || die "389-ds wrote no pid file"
  printf '%s' "$SERVICE_PW" > "$dir/service-password"
  printf '%s' "$ROOTPW" > "$dir/admin-password"
  chmod 600 "$dir/service-password" "$dir/admin-password"
  [ -f "$dir/seeded" ] || seed "$dir" "ldap://127.0.0.1:$port"
}

case "${1:-}" in
  start) [ $# -eq 3 ] || die "usage: $0 start DIR TLS"; start "$2" "$3" ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
