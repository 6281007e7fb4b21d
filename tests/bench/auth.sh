#!/usr/bin/env bash
# Logged-in traffic and logins: what a session costs on the request path, and how fast Pforte
# logs people in against slapd, each compared with a reference measured in the same run.
#
#   tests/bench/auth.sh                  # 10 s per measurement, 3 rounds, medians
#   DURATION=20 ROUNDS=5 tests/bench/auth.sh
#   PFORTE_BIN=/path/to/pforte tests/bench/auth.sh   # measure that binary (e.g. an older build)
#   AUDIT=1 tests/bench/auth.sh          # with the chained audit log (log.audit_file): compare
#                                        # the refusals row (one audit event each) with AUDIT=0
#
# Rows (wrk, HTTP/1.1 keep-alive over TLS, the same settings for each):
#   nginx      wrk -> nginx  (TLS) -> upstream                       the plain-proxy reference
#   public     wrk -> pforte (TLS) -> upstream, an `everyone` rule    no session
#   session    wrk -> pforte (TLS) -> upstream, a `group:staff` rule  with a session cookie:
#              cookie -> local session cache -> policy -> identity headers
#   login      wrk POSTs the login form: anti-forgery check, throttle check (Redis), user search
#              and bind (slapd), new session (Redis)
#   bind       raw simple binds as the same user against the same slapd, with ldap3
#              (directory/examples/bind_rate.rs): the ceiling for logins
# Redis: the memory one session takes (MEMORY USAGE of the session keys, averaged).
#
# The machine has 2 cores. Proxy rows: the proxy alone on core 1, wrk and the upstream on core 0
# (as tests/bench/proxy.sh). Login rows, as in production where the directory is another
# machine: Pforte and its Redis on core 0; slapd and the load generator (wrk, or the bind tool
# for the reference) on core 1.
# Last lines: session_ratio_vs_public=, session_ratio_vs_nginx=, login_ratio_vs_bind=,
# redis_bytes_per_session=.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-16}
HOST=bench.localhost

for tool in nginx wrk openssl taskset curl redis-cli slapd; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./tests/run once (it installs everything)" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/dev/services.sh stop "$work/svc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }

echo "building release binaries..." >&2
if [ -z "${PFORTE_BIN:-}" ]; then
  cargo build --release -q --bin pforte
  PFORTE_BIN=target/release/pforte
fi
cargo build --release -q -p pforte-directory --example bind_rate

mkdir -p "$work/svc"
LDAP_LOG_LEVEL=none deploy/dev/services.sh start "$work/svc" 2>/dev/null
eval "$(deploy/dev/services.sh env "$work/svc")"
taskset -apc 1 "$(cat "$work/svc/ldap/slapd.pid")" >/dev/null
taskset -apc 0 "$(cat "$work/svc/redis/redis.pid")" >/dev/null

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$HOST" \
  -addext "subjectAltName=DNS:$HOST,DNS:*.$HOST" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

UPSTREAM=$(free_port); NGINX=$(free_port); PFORTE=$(free_port); ADMIN=$(free_port)
mkdir -p "$work/upstream" "$work/nginx"
nginx_conf() {   # $1 = dir, $2 = server block
  cat > "$1/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1; proxy_temp_path $1; fastcgi_temp_path $1; uwsgi_temp_path $1; scgi_temp_path $1;
  keepalive_requests 1000000;
  $2
}
CONF
}
nginx_conf "$work/upstream" "server { listen 127.0.0.1:$UPSTREAM; location / { return 200 \"hello from the upstream\\n\"; } }"
nginx_conf "$work/nginx" "upstream app { server 127.0.0.1:$UPSTREAM; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX ssl;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\";
      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; }
  }"

cat > "$work/apps.toml" <<CONF
[[app]]
name = "public"
hosts = ["public.$HOST"]
upstreams = ["http://127.0.0.1:$UPSTREAM"]
[[app]]
name = "staff"
hosts = ["staff.$HOST"]
upstreams = ["http://127.0.0.1:$UPSTREAM"]
CONF
cat > "$work/policy.toml" <<CONF
[[rule]]
apps = ["public"]
paths = ["/"]
allow = ["everyone"]
[[rule]]
apps = ["staff"]
allow = ["group:staff"]
CONF
# AUDIT=1: the gateway writes its chained audit log (what an audit event costs a login).
audit_line=""
[ "${AUDIT:-0}" = 1 ] && audit_line="audit_file = \"$work/audit.jsonl\""
cat > "$work/gateway.toml" <<CONF
[server]
listen = ["127.0.0.1:$PFORTE"]
[admin]
listen = "127.0.0.1:$ADMIN"
[limits]
max_connections = 10000
# One address (the load generator) makes every login: the per-address login limit is off.
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
[log]
level = "warn"
$audit_line
CONF

taskset -c 0 nginx -p "$work/upstream" -c "$work/upstream/nginx.conf" & pids+=($!)
taskset -c 1 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" & pids+=($!)
taskset -c 1 "$PFORTE_BIN" run --config "$work/gateway.toml" 2> "$work/pforte.log" & pids+=($!)
pforte_pid=${pids[2]}
wait_port "$UPSTREAM"; wait_port "$NGINX"; wait_port "$PFORTE"

# One login through the form: any 64-hex token works as long as cookie and field agree.
token=$(openssl rand -hex 32)
login_url="https://login.$HOST:$PFORTE/login"
session=$(curl -sk --resolve "login.$HOST:$PFORTE:127.0.0.1" -o /dev/null -D - \
  -H "Cookie: __Host-pforte-csrf=$token" -H "Origin: https://login.$HOST:$PFORTE" \
  --data "username=alice&password=alicepw&csrf=$token" "$login_url" |
  sed -n 's/^set-cookie: __Host-pforte=\([^;]*\);.*/\1/ip' | head -1)
[ -n "$session" ] || { echo "the benchmark login failed" >&2; cat "$work/pforte.log" >&2; exit 1; }
status=$(curl -sk -o /dev/null -w '%{http_code}' --resolve "staff.$HOST:$PFORTE:127.0.0.1" \
  -H "Cookie: __Host-pforte=$session" "https://staff.$HOST:$PFORTE/")
[ "$status" = 200 ] || { echo "the session does not open the staff app ($status)" >&2; exit 1; }

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
run_wrk() {   # cpu name host port path connections [wrk args...]
  local cpu=$1 name=$2 host=$3 port=$4 path=$5 conns=$6; shift 6
  local out; out=$(taskset -c "$cpu" wrk -t1 -c"$conns" -d"${DURATION}s" --latency -H "Host: $host" "$@" "https://127.0.0.1:$port$path")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
  p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
  local errors; errors=$(awk '/Non-2xx or 3xx/ {print $NF}' <<<"$out")
  printf '%-28s %10s req/s   p50 %8s ms   p99 %8s ms%s\n' "$name" "$rps" "$p50" "$p99" "${errors:+   non-2xx/3xx $errors}" >&2
  echo "$rps"
}
cat > "$work/login.lua" <<LUA
wrk.method = "POST"
wrk.body = "username=alice&password=alicepw&csrf=$token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "__Host-pforte-csrf=$token"
wrk.headers["Origin"] = "https://login.$HOST:$PFORTE"
LUA
run_bind() {
  local out; out=$(taskset -c 1 target/release/examples/bind_rate "$PFORTE_TEST_LDAP_URL" \
    "uid=alice,ou=people,$PFORTE_TEST_LDAP_BASE_DN" alicepw "$DURATION" "$LOGIN_CONNECTIONS")
  local rps; rps=$(sed -n 's/^binds_per_second=//p' <<<"$out")
  printf '%-28s %10s binds/s\n' "bind (raw slapd, ldap3)" "$rps" >&2
  echo "$rps"
}

# Who limits the login rows: each server's share of a core over the last row (user + system
# time from /proc), so a ratio can be read as Pforte's cost or as a neighbour's.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
watched=("pforte:$pforte_pid" "slapd:$(cat "$work/svc/ldap/slapd.pid")" "redis:$(cat "$work/svc/redis/redis.pid")")
cpu_mark() { marks=(); for w in "${watched[@]}"; do marks+=("$(cpu_ticks "${w#*:}")"); done; }
cpu_report() {
  local i line="" hz; hz=$(getconf CLK_TCK)
  for i in "${!watched[@]}"; do
    line+=$(awk -v a="${marks[$i]}" -v b="$(cpu_ticks "${watched[$i]#*:}")" -v hz="$hz" -v d="$DURATION" -v n="${watched[$i]%%:*}" \
      'BEGIN {printf "  %s cpu %.0f%%", n, 100 * (b - a) / hz / d}')
  done
  echo "    ${line# }" >&2
}

redis="redis-cli -u $PFORTE_TEST_REDIS_URL"
sessions_before=$($redis --scan --pattern 'bench:s:*' | wc -l)
memory_before=$($redis INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
echo "proxy rows: proxies on core 1, wrk + upstream on core 0; login rows: Pforte + Redis on core 0, slapd + load generator on core 1; ${DURATION}s each, $ROUNDS rounds (median)" >&2
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -a nginx_r public_r session_r refused_r login_r bind_r
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round" >&2
  nginx_r+=("$(run_wrk 0 "nginx (plain proxy)" "$HOST" "$NGINX" / "$CONNECTIONS")")
  public_r+=("$(run_wrk 0 "pforte public route" "public.$HOST" "$PFORTE" / "$CONNECTIONS")")
  session_r+=("$(run_wrk 0 "pforte with a session" "staff.$HOST" "$PFORTE" / "$CONNECTIONS" -H "Cookie: __Host-pforte=$session")")
  # Without a session the staff app is refused (a login redirect): one audit event per request,
  # so AUDIT=1 against AUDIT=0 is what an audit event costs the gateway.
  refused_r+=("$(run_wrk 0 "pforte refusals" "staff.$HOST" "$PFORTE" / "$CONNECTIONS")")
  taskset -apc 0 "$pforte_pid" >/dev/null   # logins: Pforte and Redis on core 0
  cpu_mark
  login_r+=("$(run_wrk 1 "pforte logins" "login.$HOST" "$PFORTE" /login "$LOGIN_CONNECTIONS" -s "$work/login.lua")")
  cpu_report
  cpu_mark
  bind_r+=("$(run_bind)")
  cpu_report
  taskset -apc 1 "$pforte_pid" >/dev/null
done
nginx=$(printf '%s\n' "${nginx_r[@]}" | median)
public=$(printf '%s\n' "${public_r[@]}" | median)
with_session=$(printf '%s\n' "${session_r[@]}" | median)
refusals=$(printf '%s\n' "${refused_r[@]}" | median)
logins=$(printf '%s\n' "${login_r[@]}" | median)
binds=$(printf '%s\n' "${bind_r[@]}" | median)

# Redis memory per session: what the logins added to Redis's used memory (session hashes and
# the per-user index), divided by the sessions they made.
sessions=$(( $($redis --scan --pattern 'bench:s:*' | wc -l) - sessions_before ))
memory_after=$($redis INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
per_session=$(( sessions > 0 ? (memory_after - memory_before) / sessions : 0 ))

echo "medians: nginx $nginx, public $public, with a session $with_session, refusals $refusals req/s; logins $logins/s, raw binds $binds/s; $sessions sessions in Redis, $per_session bytes each" >&2
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
echo "session_ratio_vs_public=$(ratio "$with_session" "$public")"
echo "session_ratio_vs_nginx=$(ratio "$with_session" "$nginx")"
echo "login_ratio_vs_bind=$(ratio "$logins" "$binds")"
echo "redis_bytes_per_session=$per_session"
echo "refusals_per_second=$refusals"
