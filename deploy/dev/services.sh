#!/usr/bin/env bash
# Throwaway OpenLDAP (slapd), 389-DS, Samba AD and Redis for the tests and for local development.
#
#   deploy/dev/services.sh start [DIR]             slapd "ldap" (demo data) + redis-server, free loopback ports
#   deploy/dev/services.sh start-ldap DIR [NAME]   one more slapd, NAME defaults to ldap2 (failover tests)
#   deploy/dev/services.sh start-389 DIR           389 Directory Server, demo data (deploy/dev/ds389.sh)
#   deploy/dev/services.sh start-ad DIR            Samba AD domain controller, demo people (deploy/dev/samba-ad.sh)
#   deploy/dev/services.sh stop-ldap DIR NAME      stop that one slapd only (its port is reused on restart)
#   deploy/dev/services.sh env [DIR]               `export PFORTE_TEST_...` lines for what runs under DIR
#   deploy/dev/services.sh status [DIR]            which servers under DIR are running
#   deploy/dev/services.sh stop [DIR]              stop every server started under DIR
#
#   eval "$(deploy/dev/services.sh start /tmp/svc && deploy/dev/services.sh env /tmp/svc)"
#
# DIR defaults to $PFORTE_SERVICES_DIR, else `start` makes a fresh one with mktemp -d and prints
# its path on stderr. Settings (environment):
#   LDAP_TRANSITIVE_MEMBEROF=1   memberOf also lists outer groups of nested groups (dynlist overlay);
#                                default 0: memberOf lists direct groups only
#   LDAP_LOG_LEVEL=stats         slapd's log level (slapd -d), "none" for a quiet log (benchmarks)
#
# Nothing of the distribution's services or /etc/ldap is touched: each server runs as a plain
# process owned by the caller in its own session, listening on 127.0.0.1 (and slapd on an ldapi
# socket) only, with its files, pid file and log under DIR:
#   DIR/tls/           private CA (ca.crt) and the servers' certificate for localhost, 127.0.0.1
#   DIR/NAME/          one slapd: slapd.d (cn=config), data (mdb), slapd.pid, slapd.log, port,
#                      ldaps_port, ldapi (socket)
#   DIR/redis/         redis.pid, redis.log, port
#   DIR/389/           389-DS: its prefix tree (etc/dirsrv, var/log/dirsrv, ...), ns-slapd.pid, port,
#                      ldaps_port, admin-password, service-password (see deploy/dev/ds389.sh)
#   DIR/ad/            Samba AD: smb.conf, sam.ldb, samba.pid, samba.log, address (its own 127.0.0.N:
#                      AD's ports are fixed at 389 and 636), admin-password, service-password
#                      (see deploy/dev/samba-ad.sh)
#   DIR/service-password, DIR/admin-password   the bind passwords, for *_PW_FILE settings
# Every slapd in one DIR has the same data: the first is loaded online from deploy/ldap/demo.ldif
# (so the memberof overlay fires), the others are copied from it with slapcat | slapadd, so
# entryUUIDs and memberOf agree across instances as they would between replicas.
# Users, passwords and groups: deploy/ldap/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ldap_files=$(cd "$here/../ldap" && pwd)
export PATH=$PATH:/usr/sbin:/sbin
SUFFIX=dc=example,dc=org
ROOTDN=cn=admin,$SUFFIX
ROOTPW=adminpw
SERVICE_DN=cn=pforte,ou=services,$SUFFIX
SERVICE_PW=pfortepw

log() { printf '[services %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "$*"; exit 1; }
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
running() {   # $1 = pid: alive and not a zombie waiting for its (adoptive) parent to reap it
  kill -0 "$1" 2>/dev/null && ! grep -qs '^[0-9]* (.*) Z' "/proc/$1/stat"
}
pid_alive() { [ -f "$1" ] && running "$(cat "$1")"; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {   # a port the kernel just handed out and released; the caller retries on a clash
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# A recorded port is reused (stable URLs across stop-ldap/start-ldap) while it is free.
port_for() {   # $1 = file that records the port
  if [ -f "$1" ] && port_free "$(cat "$1")"; then cat "$1"; else free_port | tee "$1"; fi
}
wait_for() {   # $1 = tries of 0.1 s, rest = command that succeeds once the server answers
  local n=$1; shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

make_tls() {   # $1 = tls dir: a private CA and a leaf for localhost / 127.0.0.1 (CA:FALSE, SAN)
  local dir=$1
  [ -f "$dir/server.crt" ] && return
  mkdir -p "$dir"
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -days 30 -subj "/CN=Pforte test services CA" -out "$dir/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$dir/server.key"
  openssl req -new -key "$dir/server.key" -subj "/CN=localhost" -out "$dir/server.csr" 2>/dev/null
  printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
    'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
  chmod 600 "$dir"/*.key
}

ldap_config() {   # $1 = instance dir, $2 = tls dir, $3 = 1 for transitive memberOf: cn=config from scratch
  local dir=$1 tls=$2
  [ -d "$dir/slapd.d/cn=config" ] && return
  mkdir -p "$dir/slapd.d" "$dir/data"
  local root_hash; root_hash=$(slappasswd -s "$ROOTPW")
  local people="ou=people,$SUFFIX" groups="ou=groups,$SUFFIX"
  cat > "$dir/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid
olcArgsFile: $dir/slapd.args
olcTLSCACertificateFile: $tls/ca.crt
olcTLSCertificateFile: $tls/server.crt
olcTLSCertificateKeyFile: $tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint
olcModuleLoad: dynlist

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file:///etc/ldap/schema/dyngroup.ldif
include: file://$ldap_files/pforte-schema.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

# cn=config: the local OS user over ldapi:// (SASL EXTERNAL), or cn=admin,cn=config / adminpw
dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: $root_hash
olcAccess: {0}to * by dn.exact=gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth manage by * break

# Nothing for anonymous but binding. The service account reads people and groups (never
# passwords); every user reads people and groups too (as an LDAP client would) and their own
# entry; the services' branch is hidden from everyone but the rootdn. Second factors
# (deploy/ldap/pforte-schema.ldif): the service account alone reads and writes the three factor
# attributes of people, and may add or remove the one object class value pforteAccount; it
# writes nothing else, and nobody else sees the factors (deploy/ldap/README.md).
dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $SUFFIX
olcRootDN: $ROOTDN
olcRootPW: $root_hash
olcDbDirectory: $dir/data
olcDbMaxSize: 268435456
olcDbIndex: objectClass eq
olcDbIndex: uid,mail,cn eq,sub
olcDbIndex: member,memberOf eq
olcDbIndex: entryUUID eq
olcAccess: {0}to attrs=userPassword by self =wx by anonymous auth by * none
olcAccess: {1}to dn.base="$SUFFIX" by users read by * none
olcAccess: {2}to dn.children="$people" attrs=pforteTotp,pforteWebAuthn,pforteRecoveryCode by dn.exact="$SERVICE_DN" write by * none
olcAccess: {3}to dn.children="$people" attrs=objectClass val=pforteAccount by dn.exact="$SERVICE_DN" write by * break
olcAccess: {4}to dn.subtree="$people" by dn.exact="$SERVICE_DN" read by users read by * none
olcAccess: {5}to dn.subtree="$groups" by dn.exact="$SERVICE_DN" read by users read by * none
olcAccess: {6}to * by self read by * none

# memberOf kept on users and on nested groups (direct membership; see dynlist below)
dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfDangling: ignore
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

# deleting or renaming a user fixes up member values
dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member
olcRefintNothing: $ROOTDN
LDIF
  if [ "$3" = 1 ]; then cat >> "$dir/config.ldif" <<LDIF

# transitive memberOf: the trailing * expands nested static groups, computed at search time
# (filters on memberOf included), never stored
dn: olcOverlay={2}dynlist,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcDynListConfig
olcOverlay: {2}dynlist
olcDynListAttrSet: groupOfURLs memberURL member+memberOf@groupOfNames*
LDIF
  fi
  slapadd -n0 -F "$dir/slapd.d" -l "$dir/config.ldif" >/dev/null
}

# The first instance seeded in DIR is the source the others copy.
seed_source() {   # $1 = services dir: prints the instance dir that holds the demo data, if any
  local f
  for f in "$1"/*/seeded; do [ -f "$f" ] && { dirname "$f"; return; }; done
  return 0
}

seed_online() {   # $1 = instance dir, $2 = ldap url
  local dir=$1 url=$2 dn pw
  {
    cat "$ldap_files/demo.ldif"
    while read -r dn pw; do
      case $dn in ''|'#'*) continue ;; esac
      printf '\ndn: %s\nchangetype: modify\nreplace: userPassword\nuserPassword: %s\n' \
        "$dn" "$(slappasswd -h '{SSHA}' -s "$pw")"
    done < "$ldap_files/passwords"
  } > "$dir/demo-load.ldif"
  ldapmodify -a -x -H "$url" -D "$ROOTDN" -w "$ROOTPW" -f "$dir/demo-load.ldif" > "$dir/demo-load.log" 2>&1 ||
    die "loading the demo data failed; see $dir/demo-load.log"
  touch "$dir/seeded"
}

start_ldap() {   # $1 = services dir, $2 = instance name
  local base=$1 name=$2 dir=$1/$2
  if ! [[ $name =~ ^[a-z][a-z0-9_]*$ ]] || [ "$name" = redis ] || [ "$name" = tls ] || [ "$name" = ad ]; then
    die "instance name must match [a-z][a-z0-9_]* and not be redis, tls or ad: $name"
  fi
  if pid_alive "$dir/slapd.pid"; then log "slapd $name already running (pid $(cat "$dir/slapd.pid"))"; return; fi
  make_tls "$base/tls"
  mkdir -p "$dir"
  local fresh=0
  if [ ! -d "$dir/slapd.d/cn=config" ]; then
    fresh=1
    # All instances of one DIR share the memberOf flavour chosen when the first one was made.
    [ -f "$base/transitive-memberof" ] || echo "${LDAP_TRANSITIVE_MEMBEROF:-0}" > "$base/transitive-memberof"
    ldap_config "$dir" "$base/tls" "$(cat "$base/transitive-memberof")"
    local source; source=$(seed_source "$base")
    if [ -n "$source" ]; then   # same data, entryUUIDs and memberOf as the first instance
      slapcat -F "$source/slapd.d" -n 1 -l "$dir/copy.ldif" 2>/dev/null
      slapadd -q -F "$dir/slapd.d" -n 1 -l "$dir/copy.ldif" >/dev/null 2>&1
      rm -f "$dir/copy.ldif"
      touch "$dir/copied"
    fi
  fi
  # ldapi: a socket path longer than sun_path (108 bytes) cannot be bound; skip it then.
  local ldapi=""
  if [ ${#dir} -lt 90 ]; then ldapi="ldapi://$(printf %s "$dir/ldapi" | sed 's|/|%2F|g')"; fi
  local port ldaps attempt
  for attempt in 1 2 3; do   # a port handed out may be taken before slapd binds it: try again
    port=$(port_for "$dir/port"); ldaps=$(port_for "$dir/ldaps_port")
    log "starting slapd $name on ldap://127.0.0.1:$port ldaps://127.0.0.1:$ldaps ${ldapi:+(and ldapi)}"
    # Own session (setsid): a Ctrl-C in the caller's terminal does not reach it. -d keeps it in
    # the foreground with its log on stderr, which goes to the log file.
    setsid slapd -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$ldaps/ $ldapi" -F "$dir/slapd.d" \
      -d "${LDAP_LOG_LEVEL:-stats}" </dev/null >>"$dir/slapd.log" 2>&1 &
    if wait_for 100 ldapsearch -x -H "ldap://127.0.0.1:$port" -b '' -s base -LLL namingContexts &&
       wait_for 20 pid_alive "$dir/slapd.pid"; then
      break
    fi
    [ "$attempt" = 3 ] && die "slapd $name did not come up; see $dir/slapd.log"
    rm -f "$dir/port" "$dir/ldaps_port"
  done
  if [ "$fresh" = 1 ] && [ ! -f "$dir/copied" ]; then seed_online "$dir" "ldap://127.0.0.1:$port"; fi
}

start_redis() {   # $1 = services dir
  local dir=$1/redis port attempt
  mkdir -p "$dir"
  if pid_alive "$dir/redis.pid"; then log "redis already running (pid $(cat "$dir/redis.pid"))"; return; fi
  for attempt in 1 2 3; do
    port=$(port_for "$dir/port")
    log "starting redis-server on 127.0.0.1:$port"
    # --daemonize: redis forks into its own session and writes the pid file itself.
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    if wait_for 50 redis_ready "$port" "$dir/redis.pid"; then return; fi
    [ "$attempt" = 3 ] && die "redis did not come up; see $dir/redis.log"
    rm -f "$dir/port"
  done
}
redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ] && pid_alive "$2"; }

print_env() {   # $1 = services dir
  local base=$1 f name
  [ -f "$base/ldap/port" ] || [ -f "$base/redis/port" ] || [ -f "$base/389/port" ] || [ -f "$base/ad/address" ] || die "no services under $base: run start first"
  printf 'export %s=%q\n' PFORTE_TEST_SERVICES_DIR "$base" PFORTE_TEST_SERVICES_SCRIPT "$here/services.sh"
  if [ -f "$base/ldap/port" ]; then
    printf 'export %s=%q\n' \
      PFORTE_TEST_LDAP_URL "ldap://127.0.0.1:$(cat "$base/ldap/port")" \
      PFORTE_TEST_LDAPS_URL "ldaps://127.0.0.1:$(cat "$base/ldap/ldaps_port")" \
      PFORTE_TEST_LDAP_CA "$base/tls/ca.crt" \
      PFORTE_TEST_LDAP_BASE_DN "$SUFFIX" \
      PFORTE_TEST_LDAP_BIND_DN "$SERVICE_DN" \
      PFORTE_TEST_LDAP_BIND_PW_FILE "$base/service-password" \
      PFORTE_TEST_LDAP_ADMIN_DN "$ROOTDN" \
      PFORTE_TEST_LDAP_ADMIN_PW_FILE "$base/admin-password"
  fi
  # Every further slapd NAME: PFORTE_TEST_<NAME>_URL (so ldap2 gives PFORTE_TEST_LDAP2_URL),
  # _LDAPS_URL and _PID_FILE (for tests that kill it).
  for f in "$base"/*/slapd.d; do
    [ -d "$f" ] || continue
    name=$(basename "$(dirname "$f")")
    [ "$name" = ldap ] && continue
    [ -f "$base/$name/port" ] || continue
    printf 'export %s=%q\n' \
      "PFORTE_TEST_${name^^}_URL" "ldap://127.0.0.1:$(cat "$base/$name/port")" \
      "PFORTE_TEST_${name^^}_LDAPS_URL" "ldaps://127.0.0.1:$(cat "$base/$name/ldaps_port")" \
      "PFORTE_TEST_${name^^}_PID_FILE" "$base/$name/slapd.pid"
  done
  if [ -f "$base/redis/port" ]; then
    printf 'export %s=%q\n' PFORTE_TEST_REDIS_URL "redis://127.0.0.1:$(cat "$base/redis/port")"
  fi
  # 389-DS (same suffix and service account as the slapd; admin: its Directory Manager).
  if [ -f "$base/389/seeded" ]; then
    printf 'export %s=%q\n' \
      PFORTE_TEST_389_URL "ldap://127.0.0.1:$(cat "$base/389/port")" \
      PFORTE_TEST_389_LDAPS_URL "ldaps://127.0.0.1:$(cat "$base/389/ldaps_port")" \
      PFORTE_TEST_389_CA "$base/tls/ca.crt" \
      PFORTE_TEST_389_BASE_DN "$SUFFIX" \
      PFORTE_TEST_389_BIND_DN "$SERVICE_DN" \
      PFORTE_TEST_389_BIND_PW_FILE "$base/389/service-password" \
      PFORTE_TEST_389_ADMIN_DN "cn=Directory Manager" \
      PFORTE_TEST_389_ADMIN_PW_FILE "$base/389/admin-password"
  fi
  # Samba AD: plain ldap:// refuses simple binds (strong auth required), so ldaps:// it is.
  if [ -f "$base/ad/address" ] && [ -f "$base/ad/admin-password" ]; then
    local ad=DC=ad,DC=example,DC=org
    printf 'export %s=%q\n' \
      PFORTE_TEST_AD_URL "ldap://$(cat "$base/ad/address")" \
      PFORTE_TEST_AD_LDAPS_URL "ldaps://$(cat "$base/ad/address")" \
      PFORTE_TEST_AD_CA "$base/tls/ca.crt" \
      PFORTE_TEST_AD_BASE_DN "$ad" \
      PFORTE_TEST_AD_BIND_DN "CN=pforte,CN=Users,$ad" \
      PFORTE_TEST_AD_BIND_PW_FILE "$base/ad/service-password" \
      PFORTE_TEST_AD_ADMIN_DN "CN=Administrator,CN=Users,$ad" \
      PFORTE_TEST_AD_ADMIN_PW_FILE "$base/ad/admin-password"
  fi
}

stop_pids() {   # pid files: SIGTERM to all at once, wait up to 5 s, then SIGKILL what is left
  local f pid pids=()
  for f in "$@"; do
    if pid_alive "$f"; then
      pid=$(cat "$f"); log "stopping $(basename "$(dirname "$f")") (pid $pid)"
      kill "$pid" 2>/dev/null || true; pids+=("$pid")
    fi
  done
  local left
  for _ in $(seq 1 100); do
    left=()
    for pid in "${pids[@]}"; do if running "$pid"; then left+=("$pid"); fi; done
    [ ${#left[@]} -gt 0 ] || break
    sleep 0.05
  done
  for pid in "${pids[@]}"; do
    if running "$pid"; then log "pid $pid still alive, SIGKILL"; kill -9 "$pid" 2>/dev/null || true; fi
  done
  rm -f "$@"
}

write_passwords() {   # $1 = services dir
  # Written beside and renamed into place: start-ldap runs while tests read these files, and a
  # truncated file would be read as an empty password.
  local name value
  for name in service-password admin-password; do
    value=$SERVICE_PW
    [ "$name" = admin-password ] && value=$ROOTPW
    (umask 077 && printf '%s' "$value" > "$1/.$name.tmp")
    mv -f "$1/.$name.tmp" "$1/$name"
  done
}

command=${1:-}
[ -n "$command" ] || usage
dir=${2:-${PFORTE_SERVICES_DIR:-}}
if [ -z "$dir" ]; then
  [ "$command" = start ] || die "$command: no DIR given and PFORTE_SERVICES_DIR is not set"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pforte-services.XXXXXX")
  log "services dir: $dir"
fi
case "$command" in
  start|start-ldap) mkdir -p "$dir" ;;
  *) [ -d "$dir" ] || { [ "$command" = stop ] && exit 0; die "no such directory: $dir"; } ;;
esac
dir=$(cd "$dir" && pwd)
for tool in slapd slapadd slapcat slappasswd ldapsearch ldapmodify redis-server redis-cli openssl python3 setsid; do
  command -v "$tool" >/dev/null || [ "$command" = stop ] || [ "$command" = env ] || [ "$command" = status ] ||
    die "missing $tool: apt-get install slapd ldap-utils redis-server openssl python3 util-linux"
done
case "$command" in
  start)
    write_passwords "$dir"
    started=$(date +%s%N)
    start_ldap "$dir" ldap
    start_redis "$dir"
    log "ready in $(( ($(date +%s%N) - started) / 1000000 )) ms; env: $0 env $dir"
    ;;
  start-ldap)
    write_passwords "$dir"
    start_ldap "$dir" "${3:-ldap2}"
    ;;
  start-389|start-ad)
    make_tls "$dir/tls"
    started=$(date +%s%N)
    if [ "$command" = start-389 ]; then "$here/ds389.sh" start "$dir/389" "$dir/tls"
    else "$here/samba-ad.sh" start "$dir/ad" "$dir/tls"; fi
    log "${command#start-} ready in $(( ($(date +%s%N) - started) / 1000000 )) ms"
    ;;
  stop-ldap)
    [ -n "${3:-}" ] || die "usage: $0 stop-ldap DIR NAME"
    stop_pids "$dir/$3/slapd.pid"
    ;;
  env) print_env "$dir" ;;
  status)
    for f in "$dir"/*/slapd.pid "$dir"/*/redis.pid "$dir"/389/ns-slapd.pid "$dir"/ad/samba.pid; do
      [ -e "$f" ] || continue
      if pid_alive "$f"; then echo "$f: running (pid $(cat "$f"))"; else echo "$f: stopped"; fi
    done
    ;;
  stop)
    shopt -s nullglob
    stop_pids "$dir"/*/slapd.pid "$dir"/redis/redis.pid "$dir"/389/ns-slapd.pid "$dir"/ad/samba.pid
    ;;
  *) usage ;;
esac
