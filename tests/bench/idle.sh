#!/usr/bin/env bash
# Idle connections: what IDLE (10,000) TLS connections that complete the handshake and then send
# nothing cost one replica, and whether it still answers a new visitor at its normal latency.
#
#   tests/bench/idle.sh                          # 10,000 idle connections, 200 timed requests
#   IDLE=2000 REQUESTS=50 tests/bench/idle.sh    # a quick look
#   PFORTE_BIN=/path/to/pforte tests/bench/idle.sh   # measure that binary (e.g. main's build)
#   MAX_CONNECTIONS=20000 tests/bench/idle.sh    # room for all of them: no shedding, the memory
#                                                # of IDLE held connections
#   REQUESTS=2 MAX_TIME=30 PFORTE_BIN=main-build tests/bench/idle.sh   # a build without shedding:
#                                                # its visitors wait (30 s each at most)
#
# The idle connections come from tests/bench/idle_client.py (Python asyncio), PER_ADDRESS (100)
# from each of many loopback source addresses 127.0.A.B, so the per-address connection limit
# (256 by default) does not refuse them. The gateway proxies one app to an nginx upstream; the
# timed requests are `curl` on a fresh connection each (a new visitor: TCP, TLS, one GET),
# REQUESTS of them at rest and REQUESTS while the idle connections are open, in the same run.
# RSS is read from /proc/PID/status (VmRSS) at rest (after the warm-up requests), with the
# connections open, and after the timed requests. Prints one `key=value` line per figure.
set -euo pipefail
cd "$(dirname "$0")/../.."

IDLE=${IDLE:-10000}
PER_ADDRESS=${PER_ADDRESS:-100}
REQUESTS=${REQUESTS:-200}
MAX_TIME=${MAX_TIME:-30}   # seconds a timed request may take before it counts as failed
MAX_CONNECTIONS=${MAX_CONNECTIONS:-10000}
HOST=bench.localhost

for tool in nginx openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install nginx-light openssl curl python3" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin
# Both ends hold one descriptor per connection: as many as the hard limit allows.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((IDLE + 100)) ] || { echo "open files limited to $(ulimit -n); IDLE=$IDLE needs more" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 "${2:-100}"); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }

if [ -n "${PFORTE_BIN:-}" ]; then
  pforte_bin=$PFORTE_BIN
else
  echo "building release binary..." >&2
  cargo build --release --bin pforte -q
  pforte_bin=${CARGO_TARGET_DIR:-target}/release/pforte
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$HOST" \
  -addext "subjectAltName=DNS:$HOST" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

UPSTREAM=$(free_port); PFORTE=$(free_port); ADMIN=$(free_port)
mkdir -p "$work/upstream"
cat > "$work/upstream/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/upstream/nginx.pid;
error_log $work/upstream/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/upstream; proxy_temp_path $work/upstream; fastcgi_temp_path $work/upstream;
  uwsgi_temp_path $work/upstream; scgi_temp_path $work/upstream;
  server { listen 127.0.0.1:$UPSTREAM; location / { return 200 "hello from the upstream\n"; } }
}
CONF
cat > "$work/apps.toml" <<CONF
[[app]]
name = "bench"
hosts = ["$HOST"]
upstreams = ["http://127.0.0.1:$UPSTREAM"]
CONF
cat > "$work/policy.toml" <<CONF
[[rule]]
apps = ["bench"]
paths = ["/"]
allow = ["everyone"]
CONF
# header_read_timeout and idle_timeout long enough that the gateway's timers do not close the
# idle connections during the measurement: what is measured is what holding them costs.
cat > "$work/gateway.toml" <<CONF
[server]
listen = ["127.0.0.1:$PFORTE"]
[admin]
listen = "127.0.0.1:$ADMIN"
[limits]
max_connections = $MAX_CONNECTIONS
header_read_timeout = "120s"
idle_timeout = "300s"
[[tls.certificates]]
cert = "cert.pem"
key = "key.pem"
[portal]
host = "login.$HOST"
[apps]
file = "apps.toml"
[policy]
file = "policy.toml"
[log]
level = "warn"
CONF

nginx -p "$work/upstream" -c "$work/upstream/nginx.conf" & pids+=($!)
# PFORTE_WRAP="heaptrack -o /tmp/idle": run the gateway under a profiler (RSS is then the
# wrapper's and not meaningful).
${PFORTE_WRAP:-} "$pforte_bin" run --config "$work/gateway.toml" 2> "$work/pforte.log" & pids+=($!)
pforte_pid=$!
wait_port "$UPSTREAM"; wait_port "$PFORTE"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pforte_pid/status"; }
# REQUESTS new visitors, one after the other: prints the median and the slowest total time (ms).
visitors() {
  for _ in $(seq 1 "$REQUESTS"); do
    curl -sk -o /dev/null -w '%{http_code} %{time_total}\n' --max-time "$MAX_TIME" \
      --connect-to "$HOST:$PFORTE:127.0.0.1:$PFORTE" "https://$HOST:$PFORTE/"
  done > "$work/times"
  local bad; bad=$(awk '$1 != 200' "$work/times" | wc -l)
  sort -k2 -n "$work/times" | awk -v bad="$bad" '{t[NR] = $2 * 1000} END {printf "p50_ms=%.1f max_ms=%.1f failed=%d\n", t[int((NR + 1) / 2)], t[NR], bad}'
}

# Warm up (the upstream pool, the allocator), then the figures at rest.
REQUESTS=20 visitors > /dev/null
rss_rest=$(rss_kb)
echo "rest: rss_kb=$rss_rest $(visitors)"

mkfifo "$work/hold"
python3 tests/bench/idle_client.py "$PFORTE" "$HOST" "$IDLE" "$PER_ADDRESS" "$work/ready" \
  < "$work/hold" > "$work/client.out" & pids+=($!)
client=$!
exec 7> "$work/hold"
for _ in $(seq 1 1200); do [ -f "$work/ready" ] && break; sleep 0.5; done
[ -f "$work/ready" ] || { echo "the idle client did not finish opening its connections" >&2; exit 1; }
cat "$work/client.out"
sleep 2
rss_idle=$(rss_kb)
echo "idle: rss_kb=$rss_idle added_kb=$((rss_idle - rss_rest)) per_connection_b=$(( (rss_idle - rss_rest) * 1024 / IDLE ))"
echo "while idle: $(visitors) rss_kb=$(rss_kb)"
exec 7>&-
wait "$client" || true
tail -1 "$work/client.out"
curl -s "http://127.0.0.1:$ADMIN/metrics" | grep -E '^pforte_(connections_shed|connections_refused)' || true
