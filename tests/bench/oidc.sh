#!/usr/bin/env bash
# OpenID provider throughput: Pforte's token endpoint against panva's oidc-provider (node, the
# OpenID-certified reference; tests/bench/oidc/provider.mjs), the same grants in one run.
#
#   tests/bench/oidc.sh                        # 10 s per measurement, 3 interleaved rounds, medians
#   DURATION=20 ROUNDS=5 CONNECTIONS=128 tests/bench/oidc.sh
#   GRANTS="client-credentials exchange" SERVERS="memory redis" tests/bench/oidc.sh
#                                              # some grants and servers only (node not needed
#                                              # without op)
#   PFORTE_BIN=/path/to/pforte tests/bench/oidc.sh   # measure that binary instead of building one
#                                                    # (PFORTE_ADMIN_BIN: the pforte-admin that
#                                                    # makes its signing key)
#
# Grants (one load driver for all servers, tests/bench/oidc/driver: Rust, tokio + hyper +
# rustls, CONNECTIONS keep-alive HTTPS/1.1 connections, one grant after the other on each):
#   client_credentials  POST token, client_secret_basic: one signed access token
#   refresh             POST token grant_type=refresh_token; each connection rotates its own
#                       chain (always the newest token): access token + ID token + refresh token
#   code                GET authorize with the SSO session cookie (prompt=none, no consent)
#                       -> redirect with a code -> POST token with the PKCE verifier; one
#                       completed exchange counts once
#   exchange            POST token grant_type=urn:ietf:params:oauth:grant-type:token-exchange
#                       (RFC 8693): each connection gets alice's access token by a code exchange
#                       during warm-up, then trades it again and again for one whose audience is
#                       the second client ($API): the subject token's signature, revocation list,
#                       session and both apps' rules checked, one signature. Pforte only:
#                       oidc-provider has no token exchange (its row reads n/a); the summary
#                       compares it with Pforte's client_credentials of the same run
# Servers, each alone on core 1 (SERVER_CPU) while the driver runs on core 0 (LOAD_CPU):
#   oidc-provider    node, in-memory adapter, ES256, JWT access tokens (RFC 9068 via resource
#                    indicators), refresh rotation; over HTTPS (node's https module)
#   pforte memory    Pforte, `[sessions] store = "memory"`
#   pforte redis     Pforte, `[sessions] store = "redis"`, as in production; the Redis server
#                    runs on the driver's core, as it would on another machine
# The client secret is checked once per request on both sides (Pforte remembers a verified
# secret's SHA-256 digest, so the argon2 hash is paid once). Logins are not measured: before
# each code or refresh row every server gets SESSIONS fresh SSO sessions (oidc-provider: an
# interaction that logs alice in at once; Pforte: the login form with the demo people file).
#
# Per row: grants/s, latency p50/p99, the server's CPU use (utime+stime from /proc over the
# measured window) and grants per CPU-second of the server ("per core"; for Redis rows also with
# Redis's CPU added), the driver's own CPU use (it must stay below one core).
# Last lines: oidc_client_credentials_ratio=, oidc_refresh_ratio=, oidc_code_ratio=:
# Pforte with Redis over oidc-provider, grants per CPU-second, medians (for the grants and
# servers measured); oidc_exchange_per_client_credentials=: Pforte with Redis, token exchanges
# per CPU-second over client_credentials grants per CPU-second.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
# Sessions per server for the code and refresh rows. oidc-provider's in-memory adapter is an
# LRU of 1,000 entries: with 128 sessions it dropped some under load (login_required).
SESSIONS=${SESSIONS:-32}
WARMUP=${WARMUP:-2}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
read -r -a grants <<<"${GRANTS:-client-credentials refresh code exchange}"
read -r -a servers <<<"${SERVERS:-op memory redis}"
measures() { [[ " ${servers[*]} " == *" $1 "* ]]; }   # whether server $1 is measured
HOST=bench.localhost
CLIENT=bench
# The client whose API the exchange grant asks tokens for (Pforte only).
API=bench-api
SECRET=bench-secret-0123456789
# argon2id PHC string of $SECRET, made with argon2-cffi: PasswordHasher().hash(SECRET).
SECRET_HASH='$argon2id$v=19$m=65536,t=3,p=4$1yqcRZP/ODpjgzRaaliNGw$tWun3am92FaMd8uuqdawIiy3PvkdI11u5W++83xzvHU'
REDIRECT=https://rp.$HOST/cb
RESOURCE=https://api.$HOST

tools=(openssl taskset curl redis-server python3 cargo)
if measures op; then tools+=(node npm); fi
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install nodejs npm openssl util-linux curl redis-server python3" >&2; exit 1; }
done
export RUST_BACKTRACE=0

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }

target=${CARGO_TARGET_DIR:-target}
echo "building release binaries..." >&2
if [ -z "${PFORTE_BIN:-}" ]; then
  cargo build --release -q --bin pforte
  PFORTE_BIN=$target/release/pforte
fi
if [ -z "${PFORTE_ADMIN_BIN:-}" ]; then
  cargo build --release -q --bin pforte-admin
  PFORTE_ADMIN_BIN=$target/release/pforte-admin
fi
cargo build --release -q --manifest-path tests/bench/oidc/driver/Cargo.toml --target-dir "$target/bench-oidc-driver"
driver=$target/bench-oidc-driver/release/oidc-bench-driver
if measures op && [ ! -d tests/bench/oidc/node_modules/oidc-provider ]; then
  echo "installing oidc-provider (npm ci)..." >&2
  npm ci --prefix tests/bench/oidc --no-audit --no-fund --loglevel=error >&2
fi

# One CA and a leaf for *.bench.localhost, shared by both servers (ECDSA P-256).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$HOST" \
  -keyout "$work/key.pem" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:*.%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$HOST" "$HOST" > "$work/leaf.ext"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -extfile "$work/leaf.ext" -out "$work/cert.pem" 2>/dev/null

OP=$(free_port); PF_MEMORY=$(free_port); PF_REDIS=$(free_port); REDIS=$(free_port)

taskset -c "$LOAD_CPU" redis-server --bind 127.0.0.1 --port "$REDIS" --save '' --appendonly no \
  --dir "$work" --logfile "$work/redis.log" & pids+=($!)
redis_pid=$!

# Pforte: a login host, one (unused) app the client belongs to, a policy that lets staff use
# it, the demo people, a fresh ES256 key, one client that may use all four grants, and the
# API client it exchanges tokens for (same app, so both apps' rules are asked alike).
pforte_dir() {   # $1 = dir, $2 = port, $3 = [sessions] block
  local dir=$1
  mkdir -p "$dir"
  cp "$work/cert.pem" "$work/key.pem" directory/demo-people.toml "$dir/"
  "$PFORTE_ADMIN_BIN" keys generate --dir "$dir/keys" >/dev/null
  cat > "$dir/apps.toml" <<CONF
[[app]]
name = "bench"
hosts = ["app.$HOST"]
upstreams = ["http://127.0.0.1:9"]
CONF
  cat > "$dir/policy.toml" <<CONF
[[rule]]
apps = ["bench"]
allow = ["group:staff"]
CONF
  cat > "$dir/clients.toml" <<CONF
[[client]]
id = "$CLIENT"
app = "bench"
secret_hash = '$SECRET_HASH'
redirect_uris = ["$REDIRECT"]
scopes = ["openid", "profile", "email"]
grant_types = ["authorization_code", "refresh_token", "client_credentials", "token_exchange"]
exchange_audiences = ["$API"]

[[client]]
id = "$API"
app = "bench"
secret_hash = '$SECRET_HASH'
scopes = ["openid", "profile", "email"]
grant_types = ["client_credentials"]
CONF
  cat > "$dir/gateway.toml" <<CONF
[server]
listen = ["127.0.0.1:$2"]
[admin]
listen = "127.0.0.1:$(free_port)"
# One address (the driver) makes every grant and every login: the per-address limits are off.
[limits.rate.token]
per_minute = 0
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
backend = "file"
file = "demo-people.toml"
[keys]
dir = "keys"
[oidc]
clients = "clients.toml"
$3
[log]
level = "warn"
CONF
}
pforte_dir "$work/pforte-memory" "$PF_MEMORY" $'[sessions]\nstore = "memory"'
pforte_dir "$work/pforte-redis" "$PF_REDIS" "[sessions]
store = \"redis\"
[sessions.redis]
url = \"redis://127.0.0.1:$REDIS\"
key_prefix = \"bench:\""

op_pid=
if measures op; then
  OP_PORT=$OP OP_ISSUER=https://op.$HOST:$OP OP_RESOURCE=$RESOURCE OP_TLS_CERT=$work/cert.pem \
    OP_TLS_KEY=$work/key.pem OP_CLIENT_ID=$CLIENT OP_CLIENT_SECRET=$SECRET OP_REDIRECT_URI=$REDIRECT \
    OP_COOKIE_KEY=$(openssl rand -hex 16) \
    taskset -c "$SERVER_CPU" node tests/bench/oidc/provider.mjs 2> "$work/node.log" & pids+=($!)
  op_pid=$!
fi
taskset -c "$SERVER_CPU" "$PFORTE_BIN" run --config "$work/pforte-memory/gateway.toml" 2> "$work/pforte-memory.log" & pids+=($!)
memory_pid=$!
taskset -c "$SERVER_CPU" "$PFORTE_BIN" run --config "$work/pforte-redis/gateway.toml" 2> "$work/pforte-redis.log" & pids+=($!)
redis_gw_pid=$!
wait_port "$REDIS"; wait_port "$PF_MEMORY"; wait_port "$PF_REDIS"
if measures op; then wait_port "$OP"; fi

# oidc-provider's session: follow the authorization request through its interaction (which
# logs alice in at once) back to the client, keeping the cookies.
op_session() {
  local url="https://op.$HOST:$OP/auth?response_type=code&client_id=$CLIENT&redirect_uri=$REDIRECT&scope=openid&state=s" loc
  rm -f "$work/op.jar"
  for _ in 1 2 3 4 5; do
    loc=$(curl -s --cacert "$work/ca.pem" --resolve "op.$HOST:$OP:127.0.0.1" -b "$work/op.jar" -c "$work/op.jar" \
      -o /dev/null -w '%{redirect_url}' "$url")
    case $loc in "$REDIRECT"*) break ;; esac
    url=$loc
  done
  awk '$6 == "_session" || $6 == "_session.sig" {printf "%s%s=%s", sep, $6, $7; sep = "; "}' "$work/op.jar"
}
# Pforte's session: one login through the form (any 64-hex anti-forgery token works as long
# as cookie and field agree).
pforte_session() {   # $1 = port
  local token; token=$(openssl rand -hex 32)
  curl -s --cacert "$work/ca.pem" --resolve "login.$HOST:$1:127.0.0.1" -o /dev/null -D - \
    -H "Cookie: __Host-pforte-csrf=$token" -H "Origin: https://login.$HOST:$1" \
    --data "username=alice&password=alicepw&csrf=$token" "https://login.$HOST:$1/login" |
    sed -n 's/^set-cookie: \(__Host-pforte=[^;]*\);.*/\1/ip' | head -1
}
# Before each code and refresh row, SESSIONS fresh sessions per server (alice logging in again
# and again), the driver's connections spread over them: each person's provider state then
# grows with their own grants only, as with many people, and every round starts alike
# (oidc-provider's in-memory adapter indexes every token of a grant, so one session collecting
# a whole run's tokens would slow it down round after round).
sessions() {   # server -> one Cookie header value per line
  local _ c
  for _ in $(seq 1 "$SESSIONS"); do
    case $1 in
      op) c=$(op_session) ;;
      memory) c=$(pforte_session "$PF_MEMORY") ;;
      redis) c=$(pforte_session "$PF_REDIS") ;;
    esac
    [ -n "$c" ] || { echo "could not log in to $1" >&2; cat "$work"/*.log >&2; return 1; }
    echo "$c"
  done
}

# server name -> what the driver needs: port, issuer host, session, scopes, pids to watch.
declare -A port=([op]=$OP [memory]=$PF_MEMORY [redis]=$PF_REDIS)
declare -A issuer=([op]=op.$HOST [memory]=login.$HOST [redis]=login.$HOST)
declare -A scope=([op]="openid profile email api" [memory]="openid profile email" [redis]="openid profile email")
declare -A service_scope=([op]=api [memory]=profile [redis]=profile)
declare -A watch=([op]="--pid server=$op_pid" [memory]="--pid server=$memory_pid"
  [redis]="--pid server=$redis_gw_pid --pid redis=$redis_pid")
declare -A label=([op]="oidc-provider (node)" [memory]="pforte, memory store" [redis]="pforte, redis store")

run() {   # grant server -> "ops_per_second ops_per_cpu_second ops_per_cpu_second_with_redis errors"
  local grant=$1 server=$2 out
  if [ "$grant" = exchange ] && [ "$server" = op ]; then
    printf '  %-24s n/a (no token exchange)\n' "${label[$server]}" >&2
    echo "0 0 0 0"; return
  fi
  if [ "$grant" = client-credentials ]; then : > "$work/$server.cookies"; else sessions "$server" > "$work/$server.cookies"; fi
  # shellcheck disable=SC2086
  out=$(taskset -c "$LOAD_CPU" "$driver" --grant "$grant" --issuer "https://${issuer[$server]}:${port[$server]}" \
    --connect "127.0.0.1:${port[$server]}" --ca "$work/ca.pem" --client-id "$CLIENT" --client-secret "$SECRET" \
    --redirect-uri "$REDIRECT" --scope "${scope[$server]}" --service-scope "${service_scope[$server]}" --audience "$API" \
    --cookies "$work/$server.cookies" --connections "$CONNECTIONS" --warmup "$WARMUP" --duration "$DURATION" \
    ${watch[$server]})
  val() { sed -n "s/^$1=//p" <<<"$out"; }
  local errors; errors=$(val errors)
  local both; both=$(val ops_per_cpu_second_all)
  printf '  %-24s %7s /s  p50 %6s ms  p99 %6s ms  server cpu %4s  %7s /cpu-s%s  driver cpu %4s%s\n' \
    "${label[$server]}" "$(val ops_per_second)" "$(val p50_ms)" "$(val p99_ms)" "$(val cpu_share_server)" \
    "$(val ops_per_cpu_second_server)" "${both:+ (with redis: $both, redis cpu $(val cpu_share_redis))}" \
    "$(val driver_cpu_share)" "$( [ "$errors" != 0 ] && echo "  ERRORS $errors")" >&2
  echo "$(val ops_per_second) $(val ops_per_cpu_second_server) ${both:-0} $errors"
}

declare -A results=()   # "grant server" -> one line per round
echo "server on core $SERVER_CPU, driver (and Redis) on core $LOAD_CPU; $CONNECTIONS connections, ${WARMUP}s warm-up + ${DURATION}s per row, $ROUNDS rounds (median)" >&2
for round in $(seq 1 "$ROUNDS"); do
  for grant in "${grants[@]}"; do
    echo "round $round, $grant" >&2
    for server in "${servers[@]}"; do
      results["$grant $server"]+="$(run "$grant" "$server")"$'\n'
    done
  done
done

median() {   # column of the rounds' lines
  awk -v c="$1" 'NF >= c {print $c}' | sort -n | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : 0)}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
echo "medians (grants/s; grants per CPU-second of the server):" >&2
declare -A final=()
col() { median "$1" <<<"${results["$2 $3"]:-}"; }   # column grant server
for grant in "${grants[@]}"; do
  op_rate=$(col 1 "$grant" op); op_core=$(col 2 "$grant" op)
  mem_rate=$(col 1 "$grant" memory); mem_core=$(col 2 "$grant" memory)
  red_rate=$(col 1 "$grant" redis); red_core=$(col 2 "$grant" redis)
  red_both=$(col 3 "$grant" redis)
  if measures op && [ "$grant" != exchange ]; then
    printf '  %-19s oidc-provider %6s/s %6s/cpu-s | pforte memory %6s/s %6s/cpu-s (x%s) | pforte redis %6s/s %6s/cpu-s (x%s; with redis cpu %s, x%s)\n' \
      "$grant" "$op_rate" "$op_core" "$mem_rate" "$mem_core" "$(ratio "$mem_core" "$op_core")" \
      "$red_rate" "$red_core" "$(ratio "$red_core" "$op_core")" "$red_both" "$(ratio "$red_both" "$op_core")" >&2
    final[$grant]=$(ratio "$red_core" "$op_core")
  else
    printf '  %-19s pforte memory %6s/s %6s/cpu-s | pforte redis %6s/s %6s/cpu-s (with redis cpu %s)\n' \
      "$grant" "$mem_rate" "$mem_core" "$red_rate" "$red_core" "$red_both" >&2
  fi
done
# The token exchange against Pforte's own client_credentials, same run, per CPU-second.
if [[ " ${grants[*]} " == *" exchange "* && " ${grants[*]} " == *" client-credentials "* ]]; then
  for server in memory redis; do
    measures "$server" || continue
    ex=$(col 2 exchange "$server"); cc=$(col 2 client-credentials "$server")
    printf '  exchange / client_credentials, %-21s %6s / %6s per cpu-s = %s\n' \
      "${label[$server]}:" "$ex" "$cc" "$(ratio "$ex" "$cc")" >&2
  done
  final[exchange]=$(ratio "$(col 2 exchange redis)" "$(col 2 client-credentials redis)")
fi
errors_total=$(printf '%s' "${results[@]}" | awk '{s += $4} END {print s + 0}')
[ "$errors_total" = 0 ] || echo "WARNING: $errors_total grants failed; see the rows marked ERRORS" >&2
echo "oidc_client_credentials_ratio=${final[client-credentials]:-n/a}"
echo "oidc_refresh_ratio=${final[refresh]:-n/a}"
echo "oidc_code_ratio=${final[code]:-n/a}"
echo "oidc_exchange_per_client_credentials=${final[exchange]:-n/a}"
