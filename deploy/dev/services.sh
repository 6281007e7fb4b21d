#!/usr/bin/env bash
# Throwaway OpenLDAP (slapd) and Redis for the tests and for local development.
#
#   deploy/dev/services.sh start DIR        # slapd (demo data) + redis-server on free loopback ports
#   deploy/dev/services.sh start-ldap2 DIR  # a second slapd with the same data (failover tests)
#   deploy/dev/services.sh env DIR          # `export PFORTE_TEST_...` lines for the running services
#   deploy/dev/services.sh stop DIR         # stop everything started under DIR
#   LDAP_TRANSITIVE_MEMBEROF=1 ...          # memberOf also lists outer groups of nested groups
#
# Nothing of the distribution's services or /etc/ldap is touched: each server runs as a plain
# process owned by the caller, listening on 127.0.0.1 only, with its files, pid and log under DIR.
# The demo data is deploy/ldap/demo.ldif.template (users and passwords: deploy/ldap/README.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
template=$here/../ldap/demo.ldif.template
export PATH=$PATH:/usr/sbin:/sbin
SUFFIX=dc=example,dc=org
ROOTDN=cn=admin,$SUFFIX
ROOTPW=adminpw
SERVICE_DN=cn=pforte,ou=services,$SUFFIX
SERVICE_PW=pfortepw

log() { printf '[services %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "$*"; exit 1; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

make_tls() {   # $1 = tls dir: a private CA and a leaf for localhost / 127.0.0.1
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

ldap_config() {   # $1 = instance dir, $2 = tls dir: cn=config from scratch with slapadd -n0
  local dir=$1 tls=$2
  [ -d "$dir/slapd.d/cn=config" ] && return
  mkdir -p "$dir/slapd.d" "$dir/data"
  local root_hash; root_hash=$(slappasswd -s "$ROOTPW")
  local dynlist_module="" dynlist_overlay=""
  if [ "${LDAP_TRANSITIVE_MEMBEROF:-0}" = 1 ]; then
    dynlist_module=$'\nolcModuleLoad: dynlist'
    dynlist_overlay=$'\n\ndn: olcOverlay={2}dynlist,olcDatabase={1}mdb,cn=config\nobjectClass: olcOverlayConfig\nobjectClass: olcDynListConfig\nolcOverlay: {2}dynlist\nolcDynListAttrSet: groupOfURLs memberURL member+memberOf@groupOfNames*'
  fi
  cat > "$dir/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid
olcArgsFile: $dir/slapd.args
olcLogLevel: stats
olcTLSCACertificateFile: $tls/ca.crt
olcTLSCertificateFile: $tls/server.crt
olcTLSCertificateKeyFile: $tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint$dynlist_module

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file:///etc/ldap/schema/dyngroup.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: $root_hash

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
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfDangling: ignore
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member
olcRefintNothing: $ROOTDN$dynlist_overlay
LDIF
  slapadd -n0 -F "$dir/slapd.d" -l "$dir/config.ldif" >/dev/null
}

start_ldap() {   # $1 = services dir, $2 = instance name
  local base=$1 name=$2 dir=$1/$2
  if pid_alive "$dir/slapd.pid"; then log "$name already running"; return; fi
  make_tls "$base/tls"
  ldap_config "$dir" "$base/tls"
  local port ldaps; port=$(free_port); ldaps=$(free_port)
  echo "$port" > "$dir/port"; echo "$ldaps" > "$dir/ldaps_port"
  log "starting slapd $name on ldap://127.0.0.1:$port and ldaps://127.0.0.1:$ldaps"
  slapd -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$ldaps/" -F "$dir/slapd.d" -s 0 -d 0 >"$dir/slapd.log" 2>&1 &
  for _ in $(seq 1 100); do
    ldapsearch -x -H "ldap://127.0.0.1:$port" -b '' -s base -LLL namingContexts >/dev/null 2>&1 && break
    sleep 0.1
  done
  pid_alive "$dir/slapd.pid" || die "slapd $name did not come up; see $dir/slapd.log"
  seed_ldap "$dir" "$port"
}

seed_ldap() {   # $1 = instance dir, $2 = port
  local dir=$1 url=ldap://127.0.0.1:$2
  if ldapsearch -x -H "$url" -D "$ROOTDN" -w "$ROOTPW" -b "$SUFFIX" -s base -LLL dn >/dev/null 2>&1; then return; fi
  local ldif; ldif=$(cat "$template")
  for pair in PFORTE:$SERVICE_PW ALICE:alicepw BOB:bobpw CAROL:carolpw DAVE:davepw ERIN:erinpw; do
    ldif=${ldif//@${pair%%:*}_HASH@/$(slappasswd -h '{SSHA}' -s "${pair#*:}")}
  done
  printf '%s\n' "$ldif" > "$dir/demo.ldif"
  ldapadd -x -H "$url" -D "$ROOTDN" -w "$ROOTPW" -f "$dir/demo.ldif" >/dev/null
}

start_redis() {   # $1 = services dir
  local dir=$1/redis
  mkdir -p "$dir"
  if pid_alive "$dir/redis.pid"; then log "redis already running"; return; fi
  local port; port=$(free_port); echo "$port" > "$dir/port"
  log "starting redis-server on 127.0.0.1:$port"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 1 50); do
    [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && return
    sleep 0.1
  done
  die "redis did not come up; see $dir/redis.log"
}

print_env() {   # $1 = services dir
  local base=$1
  [ -f "$base/ldap/port" ] || die "no services under $base: run start first"
  printf 'export %s=%q\n' \
    PFORTE_TEST_SERVICES_DIR "$base" \
    PFORTE_TEST_LDAP_URL "ldap://127.0.0.1:$(cat "$base/ldap/port")" \
    PFORTE_TEST_LDAPS_URL "ldaps://127.0.0.1:$(cat "$base/ldap/ldaps_port")" \
    PFORTE_TEST_LDAP_CA "$base/tls/ca.crt" \
    PFORTE_TEST_LDAP_BASE_DN "$SUFFIX" \
    PFORTE_TEST_LDAP_BIND_DN "$SERVICE_DN" \
    PFORTE_TEST_LDAP_BIND_PW_FILE "$base/service-password" \
    PFORTE_TEST_LDAP_ADMIN_DN "$ROOTDN" \
    PFORTE_TEST_LDAP_ADMIN_PW_FILE "$base/admin-password" \
    PFORTE_TEST_REDIS_URL "redis://127.0.0.1:$(cat "$base/redis/port")"
  if [ -f "$base/ldap2/port" ]; then
    printf 'export %s=%q\n' PFORTE_TEST_LDAP2_URL "ldap://127.0.0.1:$(cat "$base/ldap2/port")"
  fi
}

stop_one() {   # $1 = pid file, $2 = name
  if pid_alive "$1"; then
    local pid; pid=$(cat "$1"); log "stopping $2 (pid $pid)"; kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$1"
}

command=${1:-}
dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || die "usage: $0 start|start-ldap2|env|stop DIR"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
case "$command" in
  start)
    start_ldap "$dir" ldap
    start_redis "$dir"
    printf '%s' "$SERVICE_PW" > "$dir/service-password"
    printf '%s' "$ROOTPW" > "$dir/admin-password"
    chmod 600 "$dir/service-password" "$dir/admin-password"
    ;;
  start-ldap2) start_ldap "$dir" ldap2 ;;
  env) print_env "$dir" ;;
  stop)
    stop_one "$dir/ldap/slapd.pid" slapd
    stop_one "$dir/ldap2/slapd.pid" "second slapd"
    stop_one "$dir/redis/redis.pid" redis
    ;;
  *) die "usage: $0 start|start-ldap2|env|stop DIR" ;;
esac
