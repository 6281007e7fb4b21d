#!/usr/bin/env bash
# Soak: Pforte for half an hour at half its measured maximum rate of logged-in requests, with
# people logging in and out all along; its memory (RSS) and open file descriptors sampled.
#
#   tests/bench/soak.sh                        # 30 minutes, samples every 30 s, warm-up 5 minutes
#   MINUTES=60 SAMPLE=60 tests/bench/soak.sh
#   MINUTES=2 WARMUP=30 SAMPLE=10 tests/bench/soak.sh   # a quick look
#   PFORTE_BIN=/path/to/pforte tests/bench/soak.sh
#
# Pforte runs with slapd and Redis (deploy/dev/services.sh) as in production. First its maximum
# for logged-in requests is measured (wrk, 10 s: a session cookie, a `group:staff` rule, the
# upstream answering a small body); then for MINUTES:
#   * the load driver (tests/bench/load, `rate` mode) asks at half that rate on CONNECTIONS
#     keep-alive connections, each opened again after 1,000 requests (TLS handshakes all along);
#   * a second loop logs a person in through the form, uses the session once, and logs out
#     (every tenth session is left to expire instead), one after the other.
# Every SAMPLE seconds: Pforte's RSS (VmRSS) and open descriptors (/proc/PID/fd). Growth counts
# from the first sample after WARMUP seconds to the median of the last three samples.
# Goals (issue 16): RSS grows at most 5 % after warm-up, descriptors not at all (beyond the
# connections the load holds open at the moment of a sample).
# The login loop runs from one address, so the login form's rate limit per address is off.
# Cores (2): Pforte on core 1; the load, the login loop, the upstream, slapd and Redis on core 0.
# Last lines: soak_rss_kib_{warm,end}=, soak_rss_growth_percent=, soak_fds_{warm,end}=,
# soak_requests=, soak_errors=, soak_logins=, soak_goal=met|not met.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/lib.sh

MINUTES=${MINUTES:-30}
WARMUP=${WARMUP:-300}
SAMPLE=${SAMPLE:-30}
CONNECTIONS=${CONNECTIONS:-64}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
HOST=bench.localhost

require_tools nginx wrk openssl taskset curl python3 slapd redis-server
(( MINUTES * 60 > WARMUP + 3 * SAMPLE )) || { echo "MINUTES must leave room for three samples after WARMUP" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/dev/services.sh stop "$work/svc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

pforte_bin
build_driver
mkdir -p "$work/svc"
LDAP_LOG_LEVEL=none deploy/dev/services.sh start "$work/svc" 2>/dev/null
eval "$(deploy/dev/services.sh env "$work/svc")"
taskset -apc "$LOAD_CPU" "$(cat "$work/svc/ldap/slapd.pid")" >/dev/null
taskset -apc "$LOAD_CPU" "$(cat "$work/svc/redis/redis.pid")" >/dev/null

make_certs "$work" "$HOST"
UPSTREAM=$(free_port); PFORTE=$(free_port); ADMIN=$(free_port)
mkdir -p "$work/upstream"
nginx_conf "$work/upstream" "server { listen 127.0.0.1:$UPSTREAM; location / { return 200 \"hello from the upstream\\n\"; } }"
cat > "$work/apps.toml" <<CONF
[[app]]
name = "staff"
hosts = ["staff.$HOST"]
upstreams = ["http://127.0.0.1:$UPSTREAM"]
CONF
cat > "$work/policy.toml" <<CONF
[[rule]]
apps = ["staff"]
allow = ["group:staff"]
CONF
cat > "$work/gateway.toml" <<CONF
[server]
listen = ["127.0.0.1:$PFORTE"]
[admin]
listen = "127.0.0.1:$ADMIN"
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
key_prefix = "soak:"
[sessions.throttle]
free_failures = 1000000
lock_after = 2000000
[limits.rate.login]
per_minute = 0
[log]
level = "warn"
CONF

taskset -c "$LOAD_CPU" nginx -p "$work/upstream" -c "$work/upstream/nginx.conf" & pids+=($!)
taskset -c "$SERVER_CPU" "$pforte_bin" run --config "$work/gateway.toml" 2> "$work/pforte.log" & pids+=($!)
pforte_pid=$!
wait_port "$UPSTREAM"; wait_port "$PFORTE"

curl_login=(curl -s --cacert "$work/ca.pem" --resolve "login.$HOST:$PFORTE:127.0.0.1" --resolve "staff.$HOST:$PFORTE:127.0.0.1")
log_in() {   # prints the session cookie's value
  local token; token=$(openssl rand -hex 32)
  "${curl_login[@]}" -o /dev/null -D - -H "Cookie: __Host-pforte-csrf=$token" -H "Origin: https://login.$HOST:$PFORTE" \
    --data "username=alice&password=alicepw&csrf=$token" "https://login.$HOST:$PFORTE/login" |
    sed -n 's/^set-cookie: __Host-pforte=\([^;]*\);.*/\1/ip' | head -1
}
session=$(log_in)
[ -n "$session" ] || { echo "the login failed" >&2; cat "$work/pforte.log" >&2; exit 1; }

max=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d10s -H "Host: staff.$HOST" -H "Cookie: __Host-pforte=$session" \
  "https://127.0.0.1:$PFORTE/" | awk '/^Requests\/sec/ {printf "%.0f", $2}')
rate=$(( max / 2 ))
echo "maximum with a session: $max req/s; soaking at $rate req/s for $MINUTES min (warm-up ${WARMUP}s, a sample every ${SAMPLE}s)" >&2

taskset -c "$LOAD_CPU" "$driver" --url "https://staff.$HOST/" --connect "127.0.0.1:$PFORTE" --ca "$work/ca.pem" \
  --warmup 0 --duration "$(( MINUTES * 60 ))" rate --rate "$rate" --connections "$CONNECTIONS" --per-connection 1000 \
  --header "Cookie: __Host-pforte=$session" > "$work/load.out" 2> "$work/load.err" & pids+=($!)
load_pid=$!

# People logging in and out, one after the other, until the load ends.
(
  n=0
  while kill -0 "$load_pid" 2>/dev/null; do
    s=$(log_in) || true
    if [ -n "$s" ]; then
      n=$((n + 1))
      "${curl_login[@]}" -o /dev/null -H "Cookie: __Host-pforte=$s" "https://staff.$HOST:$PFORTE/" || true
      if (( n % 10 != 0 )); then
        token=$(openssl rand -hex 32)
        "${curl_login[@]}" -o /dev/null -H "Cookie: __Host-pforte=$s; __Host-pforte-csrf=$token" \
          -H "Origin: https://login.$HOST:$PFORTE" --data "csrf=$token" "https://login.$HOST:$PFORTE/logout" || true
      fi
      echo "$n" > "$work/logins"
    fi
  done
) & pids+=($!)

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pforte_pid/status"; }
fds() { find "/proc/$pforte_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
printf '  %6s  %10s  %5s\n' "second" "rss KiB" "fds" >&2
: > "$work/samples"
started=$(date +%s)
while kill -0 "$load_pid" 2>/dev/null; do
  sleep "$SAMPLE"
  kill -0 "$pforte_pid" 2>/dev/null || { echo "pforte died" >&2; tail -20 "$work/pforte.log" >&2; exit 1; }
  kill -0 "$load_pid" 2>/dev/null || break
  t=$(( $(date +%s) - started ))
  row="$t $(rss) $(fds)"
  echo "$row" >> "$work/samples"
  printf '  %6s  %10s  %5s\n' $row >&2
done
wait "$load_pid" || true
cat "$work/load.err" >&2

python3 - "$work/samples" "$WARMUP" "$work/load.out" "$(cat "$work/logins" 2>/dev/null || echo 0)" <<'PY'
import statistics, sys
samples = [tuple(map(int, line.split())) for line in open(sys.argv[1]) if line.strip()]
warmup = int(sys.argv[2])
load = dict(line.strip().split("=", 1) for line in open(sys.argv[3]) if "=" in line)
after = [s for s in samples if s[0] >= warmup]
warm = after[0]
end_rss = statistics.median(s[1] for s in after[-3:])
end_fds = statistics.median(s[2] for s in after[-3:])
growth = 100.0 * (end_rss - warm[1]) / warm[1]
print(f"soak_rss_kib_warm={warm[1]}")
print(f"soak_rss_kib_end={end_rss:.0f}")
print(f"soak_rss_growth_percent={growth:.1f}")
print(f"soak_fds_warm={warm[2]}")
print(f"soak_fds_end={end_fds:.0f}")
print(f"soak_fds_max={max(s[2] for s in after)}")
print(f"soak_requests={load.get('requests', '?')}")
print(f"soak_errors={load.get('errors', '?')} bad_status={load.get('bad_status', '?')}")
print(f"soak_p99_ms={load.get('p99_ms', '?')}")
print(f"soak_logins={sys.argv[4]}")
met = growth <= 5.0 and end_fds <= warm[2]
print(f"soak_goal={'met' if met else 'not met'}")
PY
