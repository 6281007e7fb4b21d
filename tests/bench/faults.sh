#!/usr/bin/env bash
# Fault injection under load: each fault is injected while the checking load generator
# (tests/load/main.rs over tests/support/faults_load.rs) logs people in, uses apps through the
# proxy, gets and refreshes OIDC tokens and logs some sessions out, judging every answer against
# the policy and its own revocations. One row per fault:
#   failed    operations without an answer (connection broken, timeout) or with a 5xx
#   wrong     wrong decisions: let through what the policy or a revocation refuses, or refused
#             what the policy allows (must be 0 in every row)
#   lost      sessions or refresh-token families acknowledged and later treated as logged out
#             without a revocation
#   recover   from the first failure to the first success after the last one (longest kind of
#             operation; "-" when nothing failed)
#
#   tests/bench/faults.sh             # each fault under 24 s of load
#   QUICK=1 tests/bench/faults.sh     # each fault once, 8 s of load: under 5 minutes
#   SECONDS_PER_FAULT=40 USERS=16 tests/bench/faults.sh
#   PFORTE_BIN=/path/to/pforte tests/bench/faults.sh   # that gateway (default: the release build)
#
# Everything runs on loopback from a temporary folder removed on exit: two slapd (the demo
# directory; the gateways list both, the first is the one killed), a redis-server of its own with
# `--appendonly yes --appendfsync always`, nginx as the apps' upstream, two gateway replicas
# sharing that Redis and one signing-key folder (certificates from one CA), and one more gateway
# with the memory store. A connection refused by a replica goes to the other one (as a load
# balancer's next-upstream does); what was already sent to a killed replica counts as failed.
# Two rows lose state by design and say so: Redis restarted without persistence, and a gateway
# with the memory store restarted. The last lines, `wrong_decisions_total=N` and
# `sessions_lost_total=N`, sum every row with Redis and its append-only file (the two rows that
# lose state by design are left out of the second).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/sbin:/sbin

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then SECONDS_PER_FAULT=${SECONDS_PER_FAULT:-8}; else SECONDS_PER_FAULT=${SECONDS_PER_FAULT:-24}; fi
USERS=${USERS:-8}
target=${CARGO_TARGET_DIR:-target}
PFORTE_BIN=${PFORTE_BIN:-$target/release/pforte}
PFORTE_ADMIN_BIN=${PFORTE_ADMIN_BIN:-$target/release/pforte-admin}
LOAD_BIN=${LOAD_BIN:-$target/release/pforte-load}
export PFORTE_ADMIN_BIN

for tool in nginx redis-server redis-cli slapd curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install nginx-light redis-server redis-tools slapd ldap-utils curl python3" >&2; exit 1; }
done
if [ ! -x "$PFORTE_BIN" ] || [ ! -x "$PFORTE_ADMIN_BIN" ] || [ ! -x "$LOAD_BIN" ]; then
  echo "building release binaries..." >&2
  cargo build --release -q --bin pforte --bin pforte-admin
  cargo build --release -q -p pforte-e2e --bin pforte-load
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pforte-faults.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  exec 2>/dev/null   # bash would report each killed job
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  deploy/dev/services.sh stop "$work/svc" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say() { printf 'faults: %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; say "port $1 did not open"; return 1; }

# --- services -------------------------------------------------------------------------------
say "starting two slapd"
LDAP_LOG_LEVEL=none deploy/dev/services.sh start "$work/svc" 2>"$work/services.log"
LDAP_LOG_LEVEL=none deploy/dev/services.sh start-ldap "$work/svc" ldap2 2>>"$work/services.log"
eval "$(deploy/dev/services.sh env "$work/svc")"

REDIS_PORT=$(free_port)
mkdir -p "$work/redis"
redis_pid=""
start_redis() {
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly yes --appendfsync always \
    --dir "$work/redis" --logfile "$work/redis/redis.log" </dev/null >/dev/null 2>&1 &
  redis_pid=$!; pids+=("$redis_pid")
  for _ in $(seq 1 100); do [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.1; done
  say "redis-server did not start"; return 1
}
start_redis
export PFORTE_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT

UP_PORT=$(free_port)
mkdir -p "$work/nginx"
"$LOAD_BIN" nginx-conf --dir "$work/nginx" --port "$UP_PORT" > "$work/nginx/nginx.conf"
nginx_pid=""
start_nginx() {
  nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/nginx-error.log" </dev/null >/dev/null 2>&1 &
  nginx_pid=$!; pids+=("$nginx_pid")
  wait_port "$UP_PORT"
}
start_nginx

# --- gateways -------------------------------------------------------------------------------
"$LOAD_BIN" setup --dir "$work/gw" --replicas 2 --upstream "http://127.0.0.1:$UP_PORT" \
  --ldap "$PFORTE_TEST_LDAP_URL" --ldap "$PFORTE_TEST_LDAP2_URL" --redis "pforte-faults:" > "$work/gw.env"
"$LOAD_BIN" setup --dir "$work/mem" --replicas 1 --upstream "http://127.0.0.1:$UP_PORT" \
  --ldap "$PFORTE_TEST_LDAP_URL" --ldap "$PFORTE_TEST_LDAP2_URL" | sed 's/^export R0_/export M0_/; s/^export CA=/export MEM_CA=/' > "$work/mem.env"
# shellcheck disable=SC1091
. "$work/gw.env"
# shellcheck disable=SC1091
. "$work/mem.env"

declare -A gw_pid
start_gw() {   # $1 = R0, R1 or M0
  local dir_var=${1}_DIR admin_var=${1}_ADMIN
  local dir=${!dir_var}
  "$PFORTE_BIN" run --config "$dir/gateway.toml" </dev/null >>"$dir/pforte.log" 2>&1 &
  gw_pid[$1]=$!; pids+=("$!")
  for _ in $(seq 1 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://${!admin_var}/readyz")" = 200 ] && return 0
    sleep 0.1
  done
  say "gateway $1 did not become ready; its log:"; tail -20 "$dir/pforte.log" >&2; return 1
}
kill_gw() { kill -9 "${gw_pid[$1]}" 2>/dev/null || true; wait "${gw_pid[$1]}" 2>/dev/null || true; }
reload() {   # $1 = R0 ...: POST /reload, prints the status
  local admin_var=${1}_ADMIN
  curl -s -o /dev/null -w '%{http_code}' -X POST "http://${!admin_var}/reload"
}
say "starting gateways"
start_gw R0; start_gw R1; start_gw M0

# --- rows -----------------------------------------------------------------------------------
S=$SECONDS_PER_FAULT
third=$(python3 -c "print(round($S / 3, 1))")
wrong_total=0
lost_total=0
printf '%-34s %8s %7s %6s %6s %9s  %s\n' fault operations failed wrong lost recover note
# $1 = name, $2 = 1 when the row loses state by design, $3 = the fault (a function), rest = replicas
row() {
  local name=$1 by_design=$2 fault=$3; shift 3
  local replicas=() ca=$CA
  for r in "$@"; do local v=${r}_HTTPS; replicas+=(--replica "${!v}"); done
  [ "$1" = M0 ] && ca=$MEM_CA
  note=""
  "$LOAD_BIN" run --ca "$ca" "${replicas[@]}" --seconds "$S" --users "$USERS" \
    > "$work/row.out" 2> "$work/row.err" &
  local load=$!
  sleep "$third"
  "$fault"
  wait "$load" || { say "the load generator failed:"; cat "$work/row.err" >&2; return 1; }
  local line; line=$(tail -1 "$work/row.out")
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<<"$line" | head -1; }
  local ops failed wrong lost recover
  ops=$(field operations); failed=$(field failed); wrong=$(field wrong); lost=$(field lost)
  recover=$(field recover | tr _ ' ')
  wrong_total=$((wrong_total + wrong))
  if [ "$by_design" = 1 ]; then
    note="state lost by design${note:+; $note}"
  else
    lost_total=$((lost_total + lost))
  fi
  printf '%-34s %8s %7s %6s %6s %9s  %s\n' "$name" "$ops" "$failed" "$wrong" "$lost" "$recover" "$note"
  if [ "$wrong" != 0 ] || { [ "$by_design" = 0 ] && [ "$lost" != 0 ]; }; then
    sed 's/^/    /' "$work/row.err" | head -20 >&2
  fi
}

fault_ldap() {
  deploy/dev/services.sh stop-ldap "$work/svc" ldap >/dev/null 2>&1
  sleep "$third"
  LDAP_LOG_LEVEL=none deploy/dev/services.sh start-ldap "$work/svc" ldap >/dev/null 2>&1
  note="first of two LDAP servers down ${third}s"
}
fault_redis_aof() {
  kill -9 "$redis_pid"; wait "$redis_pid" 2>/dev/null || true
  sleep 1
  start_redis
  note="SIGKILL, down 1s, AOF (fsync always)"
}
fault_redis_empty() {
  kill -9 "$redis_pid"; wait "$redis_pid" 2>/dev/null || true
  rm -rf "$work/redis/appendonlydir" "$work/redis"/*.aof "$work/redis"/*.rdb
  sleep 1
  start_redis
  note="Redis without persistence: every session gone"
}
fault_memory_restart() {
  kill_gw M0
  start_gw M0
  note="memory store: a restart forgets every session"
}
fault_upstream() {
  kill -9 "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
  sleep "$third"
  start_nginx
  note="nginx SIGKILL, down ${third}s (502/503 meanwhile)"
}
fault_replica() {
  kill_gw R0
  sleep "$third"
  note="R0 SIGKILL, R1 serves on"
}
broken_reload() {   # $1 = file, $2 = broken content file
  local r dir_var refused=0
  for r in R0 R1; do
    dir_var=${r}_DIR
    cp "${!dir_var}/$1" "$work/good.$r"
    cp "$2" "${!dir_var}/.$1.tmp"; mv -f "${!dir_var}/.$1.tmp" "${!dir_var}/$1"
    [ "$(reload "$r")" = 422 ] && refused=$((refused + 1))
  done
  sleep "$third"
  for r in R0 R1; do
    dir_var=${r}_DIR
    cp "$work/good.$r" "${!dir_var}/.$1.tmp"; mv -f "${!dir_var}/.$1.tmp" "${!dir_var}/$1"
    [ "$(reload "$r")" = 200 ] || say "reload of the good $1 on $r failed"
  done
  note="reload refused on $refused of 2 replicas, last good kept"
}
fault_policy() { printf '[[rule]]\napps = ["nowhere"]\nallow = ["everyone"]\n' > "$work/bad"; broken_reload policy.toml "$work/bad"; }
fault_config() { printf '[server\nlisten = \n' > "$work/bad"; broken_reload gateway.toml "$work/bad"; }
fault_cert() { printf -- '-----BEGIN CERTIFICATE-----\nbroken\n' > "$work/bad"; broken_reload default.crt "$work/bad"; }
fault_key() { cp "$R0_DIR/default-next.key" "$work/bad"; broken_reload default.key "$work/bad"; }   # a key of another certificate
fault_clients() { printf '[[client]]\nid = "docs"\n' > "$work/bad"; broken_reload clients.toml "$work/bad"; }
fault_signing_key() {   # the replicas share R0's key folder: broken once, refused by both
  local meta pem r refused=0
  meta=$(grep -l 'state = "active"' "$R0_DIR"/keys/*.toml | head -1); pem=${meta%.toml}.pem
  cp "$pem" "$work/good.pem"
  printf -- '-----BEGIN PRIVATE KEY-----\nbroken\n' > "$pem.tmp"; mv -f "$pem.tmp" "$pem"
  for r in R0 R1; do [ "$(reload "$r")" = 422 ] && refused=$((refused + 1)); done
  sleep "$third"
  cp "$work/good.pem" "$pem.tmp"; mv -f "$pem.tmp" "$pem"
  for r in R0 R1; do [ "$(reload "$r")" = 200 ] || say "reload of the good signing key on $r failed"; done
  note="reload refused on $refused of 2 replicas, last good kept"
}
fault_cert_rotation() {
  local r dir_var ok=0
  for r in R0 R1; do
    dir_var=${r}_DIR
    cp "${!dir_var}/default-next.key" "${!dir_var}/.k.tmp"; cp "${!dir_var}/default-next.crt" "${!dir_var}/.c.tmp"
    mv -f "${!dir_var}/.k.tmp" "${!dir_var}/default.key"; mv -f "${!dir_var}/.c.tmp" "${!dir_var}/default.crt"
    [ "$(reload "$r")" = 200 ] && ok=$((ok + 1))
  done
  note="new certificate on $ok of 2 replicas"
}
fault_key_rotation() {
  local r ok=0
  "$PFORTE_ADMIN_BIN" keys generate --dir "$R0_DIR/keys" --yes >/dev/null
  "$PFORTE_ADMIN_BIN" keys rotate --dir "$R0_DIR/keys" --yes >/dev/null
  for r in R0 R1; do [ "$(reload "$r")" = 200 ] && ok=$((ok + 1)); done
  note="next signing key active on $ok of 2 replicas"
}

row "first LDAP server killed"         0 fault_ldap R0 R1
row "Redis restarted (AOF)"             0 fault_redis_aof R0 R1
row "Redis restarted (no persistence)"  1 fault_redis_empty R0 R1
row "gateway restarted (memory store)"  1 fault_memory_restart M0
row "upstream killed and restarted"     0 fault_upstream R0 R1
row "replica killed (SIGKILL)"          0 fault_replica R0 R1
start_gw R0
row "broken policy reload"              0 fault_policy R0 R1
row "broken config reload"              0 fault_config R0 R1
row "broken certificate reload"         0 fault_cert R0 R1
row "broken key reload"                 0 fault_key R0 R1
row "broken clients reload"             0 fault_clients R0 R1
row "broken signing-key reload"         0 fault_signing_key R0 R1
row "certificate rotation"              0 fault_cert_rotation R0 R1
row "signing-key rotation"              0 fault_key_rotation R0 R1

echo "wrong_decisions_total=$wrong_total"
echo "sessions_lost_total=$lost_total"
