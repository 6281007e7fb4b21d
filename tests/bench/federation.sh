#!/usr/bin/env bash
# Federated logins (issue 17): what a login through a partner's OpenID provider costs Pforte,
# with the provider's own work left out, against a login with the directory's password in the
# same run.
#
#   tests/bench/federation.sh                  # 10 s per row, 3 interleaved rounds, medians
#   DURATION=20 ROUNDS=5 CONNECTIONS=32 tests/bench/federation.sh
#   PFORTE_BIN=/path/to/pforte tests/bench/federation.sh   # measure that binary, build none
#   PROFILE=/tmp/fed tests/bench/federation.sh   # then one more row of each kind, not counted,
#                                  # with perf recording Pforte: /tmp/fed.federated, .directory
#
# Rows (one load driver for both, tests/bench/oidc/driver with --login: Rust, tokio + hyper +
# rustls, CONNECTIONS keep-alive HTTPS/1.1 connections to Pforte, each a browser of its own
# making one login after the other; a login counts once Pforte has set its session cookie):
#   federated  GET /federation/partner/start (state, nonce and PKCE verifier kept in Redis, the
#              binding cookie) -> 303 to the provider: the driver reads state, nonce and
#              code_challenge from the Location and makes the code the provider would give ->
#              GET /federation/partner/callback?code&state&iss with the binding cookie: the
#              state taken from Redis, the code exchanged at the provider's token endpoint
#              (Pforte's outbound HTTPS client, client_secret_basic, the PKCE verifier), the
#              ES256 ID token checked with the provider's key set (cached), a guest mapped by
#              the group rule, a session written to Redis with the upstream session id noted
#              -> 303 with __Host-pforte
#   directory  POST /login (anti-forgery token in cookie and field): both throttle counters
#              (Redis), user search and bind (slapd), a session written to Redis -> 303 with
#              __Host-pforte; alice every time, as tests/bench/auth.sh's login row
# The partner's provider is a stub served by the driver itself (provider.rs: discovery, JWKS
# with one P-256 key, a token endpoint that checks the client, the redirect URI and the PKCE
# verifier and signs an ID token for the code's nonce), over HTTPS with the benchmark's CA,
# which Pforte trusts through `[federation] ca_file`.
#
# Cores (2), as tests/bench/auth.sh's login rows: Pforte (so one tokio worker) and its Redis on
# core 0 (SERVER_CPU); slapd and the driver with the stub provider on core 1 (LOAD_CPU), as if
# the directory and the partner's provider were other machines. Pforte's CPU per login is its
# user + system time from /proc over the measured window divided by the logins completed: the
# provider's work (its TLS, its signature) runs in the driver and is not in it, nor is slapd's
# or Redis's (their CPU per login is shown beside it).
#
# Per row: logins/s, latency p50/p99, Pforte's share of its core, Pforte's CPU per login (µs),
# logins per CPU-second of Pforte, Redis's and slapd's CPU per login, the driver's share of its
# core (the stub's part of it), and for federated logins the connections Pforte opened to the
# provider in the window (each a TLS handshake: 0 means its client reused kept-alive ones).
# Last line: federated_per_directory_login_cpu= Pforte's CPU per federated login over its CPU
# per directory login, the median of the rounds' ratios (each round measures both rows back to
# back, in alternating order).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-16}
WARMUP=${WARMUP:-2}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HOST=bench.localhost
PROVIDER=partner
PROVIDER_CLIENT=pforte
PROVIDER_SECRET=bench-partner-secret-0123456789

source tests/bench/lib.sh
require_tools openssl taskset redis-cli slapd python3 cargo
export RUST_BACKTRACE=0

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/dev/services.sh stop "$work/svc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM


target=${CARGO_TARGET_DIR:-target}
echo "building release binaries..." >&2
if [ -z "${PFORTE_BIN:-}" ]; then
  cargo build --release -q --bin pforte
  PFORTE_BIN=$target/release/pforte
fi
cargo build --release -q --manifest-path tests/bench/oidc/driver/Cargo.toml --target-dir "$target/bench-oidc-driver"
driver=$target/bench-oidc-driver/release/oidc-bench-driver

mkdir -p "$work/svc"
LDAP_LOG_LEVEL=none deploy/dev/services.sh start "$work/svc" 2>/dev/null
eval "$(deploy/dev/services.sh env "$work/svc")"
slapd_pid=$(cat "$work/svc/ldap/slapd.pid")
redis_pid=$(cat "$work/svc/redis/redis.pid")
taskset -apc "$LOAD_CPU" "$slapd_pid" >/dev/null
taskset -apc "$SERVER_CPU" "$redis_pid" >/dev/null

# One CA; one leaf (P-256) for Pforte's names and the provider's address, used by both; the
# provider's ID token key (P-256, ES256), the same for every round so that Pforte's cached key
# set stays right.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$HOST" \
  -keyout "$work/key.pem" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:*.%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$HOST" "$HOST" > "$work/leaf.ext"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -extfile "$work/leaf.ext" -out "$work/cert.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/signing.pem" 2>/dev/null

PFORTE=$(free_port); ADMIN=$(free_port); IDP=$(free_port)
ISSUER=https://127.0.0.1:$IDP
ORIGIN=https://login.$HOST:$PFORTE

printf '%s\n' "$PROVIDER_SECRET" > "$work/partner-secret"
cat > "$work/idps.toml" <<CONF
[[idp]]
id = "$PROVIDER"
name = "Partner ministry"
issuer = "$ISSUER"
client_id = "$PROVIDER_CLIENT"
client_secret = { file = "partner-secret" }
scopes = ["openid", "profile", "email", "groups"]
domains = ["partner.example"]
mode = "guest"
[idp.guest]
[[idp.guest.rule]]
upstream = "partner-ministry/staff"
local = "partners"
CONF
cat > "$work/apps.toml" <<CONF
[[app]]
name = "staff"
hosts = ["staff.$HOST"]
upstreams = ["http://127.0.0.1:9"]
CONF
cat > "$work/policy.toml" <<CONF
[[rule]]
apps = ["staff"]
allow = ["group:staff", "group:partners"]
CONF
cat > "$work/gateway.toml" <<CONF
[server]
listen = ["127.0.0.1:$PFORTE"]
[admin]
listen = "127.0.0.1:$ADMIN"
[limits]
max_connections = 10000
# One address (the driver) makes every login: the per-address login limit is off.
[limits.rate.login]
per_minute = 0
[[tls.certificates]]
cert = "cert.pem"
key = "key.pem"
[portal]
host = "login.$HOST"
[apps]
file = "apps.toml"
[policy]
file = "policy.toml"
[directory]
backend = "ldap"
[directory.ldap]
urls = ["$PFORTE_TEST_LDAP_URL"]
bind_dn = "$PFORTE_TEST_LDAP_BIND_DN"
bind_password = { file = "$PFORTE_TEST_LDAP_BIND_PW_FILE" }
base_dn = "$PFORTE_TEST_LDAP_BASE_DN"
user_base = "ou=people,$PFORTE_TEST_LDAP_BASE_DN"
group_base = "ou=groups,$PFORTE_TEST_LDAP_BASE_DN"
[sessions]
store = "redis"
[sessions.redis]
url = "$PFORTE_TEST_REDIS_URL"
key_prefix = "bench:"
[sessions.throttle]
free_failures = 1000000
lock_after = 2000000
[federation]
providers = "idps.toml"
ca_file = "ca.pem"
[log]
level = "warn"
CONF

taskset -c "$SERVER_CPU" "$PFORTE_BIN" run --config "$work/gateway.toml" 2> "$work/pforte.log" & pids+=($!)
pforte_pid=$!
wait_port "$PFORTE"

# One driver run: login kind, connections, warm-up, seconds -> the report's key=value lines.
drive() {
  local kind=$1 conns=$2 warmup=$3 seconds=$4
  local args=(--login "$kind" --issuer "$ORIGIN" --connect "127.0.0.1:$PFORTE" --ca "$work/ca.pem"
    --connections "$conns" --warmup "$warmup" --duration "$seconds"
    --pid "pforte=$pforte_pid" --pid "redis=$redis_pid" --pid "slapd=$slapd_pid")
  case $kind in
    federated) args+=(--provider-id "$PROVIDER" --provider-issuer "$ISSUER" --provider-cert "$work/cert.pem"
      --provider-key "$work/key.pem" --provider-signing-key "$work/signing.pem"
      --provider-client-id "$PROVIDER_CLIENT" --provider-client-secret "$PROVIDER_SECRET") ;;
    directory) args+=(--username alice --password alicepw) ;;
  esac
  taskset -c "$LOAD_CPU" "$driver" "${args[@]}"
}

# First one login of each kind alone, so that a broken setup stops here with its reason.
for kind in federated directory; do
  out=$(drive "$kind" 1 0.5 0.5) || { echo "the $kind login does not work:" >&2; cat "$work/pforte.log" >&2; exit 1; }
  if [ "$(sed -n 's/^errors=//p' <<<"$out")" != 0 ]; then
    echo "the $kind login failed (see above):" >&2; cat "$work/pforte.log" >&2; exit 1
  fi
done

declare -A label=([federated]="federated (partner OP)" [directory]="directory (LDAP form)")
declare -A results=()   # kind -> one line per round: rate us_pforte per_cpu_s us_redis us_slapd errors
run() {   # kind -> appends the round's line to results[kind], prints the row
  local kind=$1 out
  out=$(drive "$kind" "$CONNECTIONS" "$WARMUP" "$DURATION")
  val() { sed -n "s/^$1=//p" <<<"$out"; }
  local extra=""
  [ "$kind" = federated ] && extra=$(printf '  stub cpu %s, provider connections %s (%s since start)' \
    "$(val stub_cpu_share)" "$(val provider_connections)" "$(val provider_connections_total)")
  local errors; errors=$(val errors)
  printf '  %-23s %6s logins/s  p50 %6s ms  p99 %6s ms  pforte cpu %4s  %7s us/login  %6s /cpu-s  redis %6s us  slapd %6s us  driver cpu %4s%s%s\n' \
    "${label[$kind]}" "$(val ops_per_second)" "$(val p50_ms)" "$(val p99_ms)" "$(val cpu_share_pforte)" \
    "$(val cpu_us_per_op_pforte)" "$(val ops_per_cpu_second_pforte)" "$(val cpu_us_per_op_redis)" \
    "$(val cpu_us_per_op_slapd)" "$(val driver_cpu_share)" "$extra" "$( [ "$errors" != 0 ] && echo "  ERRORS $errors")" >&2
  results[$kind]+="$(val ops_per_second) $(val cpu_us_per_op_pforte) $(val ops_per_cpu_second_pforte) $(val cpu_us_per_op_redis) $(val cpu_us_per_op_slapd) $errors"$'\n'
}

echo "Pforte + Redis on core $SERVER_CPU; slapd + driver (with the stub provider) on core $LOAD_CPU; $CONNECTIONS connections, ${WARMUP}s warm-up + ${DURATION}s per row, $ROUNDS rounds (median)" >&2
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round" >&2
  if (( round % 2 )); then order=(federated directory); else order=(directory federated); fi
  for kind in "${order[@]}"; do run "$kind"; done
done

if [ -n "${PROFILE:-}" ]; then   # perf samples of Pforte during one more row of each kind
  for kind in federated directory; do
    perf record -e cpu-clock -F 999 --call-graph dwarf,16384 -o "$PROFILE.$kind" -p "$pforte_pid" \
      -- sleep "$(awk -v w="$WARMUP" -v d="$DURATION" 'BEGIN {print w + d}')" >/dev/null 2>&1 &
    perf_pid=$!
    echo "profiled (not counted):" >&2
    drive "$kind" "$CONNECTIONS" "$WARMUP" "$DURATION" >/dev/null
    wait "$perf_pid" || echo "perf failed for the $kind row" >&2
    echo "  $kind: perf report -i $PROFILE.$kind --no-children" >&2
  done
fi

median() { sort -g | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : 0)}'; }
col() { awk -v c="$2" 'NF >= c {print $c}' <<<"${results[$1]}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
echo "medians:" >&2
for kind in federated directory; do
  printf '  %-23s %6s logins/s  Pforte %7s us/login  %6s logins per cpu-s  (Redis %s us, slapd %s us per login)\n' \
    "${label[$kind]}" "$(col "$kind" 1)" "$(col "$kind" 2)" "$(col "$kind" 3)" "$(col "$kind" 4)" "$(col "$kind" 5)" >&2
done
# Each round's ratio (both rows measured back to back), then their median.
round_ratios=$(paste -d' ' <(awk 'NF {print $2}' <<<"${results[federated]}") <(awk 'NF {print $2}' <<<"${results[directory]}") |
  awk '{ if ($2 > 0) printf "%.3f\n", $1 / $2 }')
with_redis=$(paste -d' ' <(awk 'NF {print $2 + $4}' <<<"${results[federated]}") <(awk 'NF {print $2 + $4}' <<<"${results[directory]}") |
  awk '{ if ($2 > 0) printf "%.3f\n", $1 / $2 }')
echo "  Pforte CPU per login, federated / directory, per round: $(tr '\n' ' ' <<<"$round_ratios")(ratio of the medians: $(ratio "$(col federated 2)" "$(col directory 2)"); with Redis's CPU added: $(median <<<"$with_redis"))" >&2
echo "  logins/s, federated / directory: $(ratio "$(col federated 1)" "$(col directory 1)")" >&2
errors_total=$(printf '%s' "${results[@]}" | awk '{s += $6} END {print s + 0}')
[ "$errors_total" = 0 ] || echo "WARNING: $errors_total logins failed; see the rows marked ERRORS" >&2
printf 'federated_per_directory_login_cpu=%.2f\n' "$(median <<<"$round_ratios")"
