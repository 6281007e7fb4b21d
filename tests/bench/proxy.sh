#!/usr/bin/env bash
# Proxy throughput: Pforte against nginx as a TLS reverse proxy to the same upstream, in one run.
#
#   tests/bench/proxy.sh                 # 10 s per measurement
#   DURATION=30 CONNECTIONS=128 tests/bench/proxy.sh
#   PROFILE=/tmp/pforte.perf tests/bench/proxy.sh   # also record a perf profile of Pforte
#   SYSCALLS=1 tests/bench/proxy.sh                 # also count system calls per request
#   CALLGRIND=1 tests/bench/proxy.sh                # instead: instructions per request (valgrind)
#   PFORTE_BIN=/path/to/pforte tests/bench/proxy.sh # measure that binary (e.g. an older build)
#
# The machine has 2 cores: the proxy under test runs alone on core 1 (nginx: 1 worker; Pforte:
# tokio sees one CPU and starts one worker); the load generator and the upstream share core 0
# (taskset). UPSTREAM_CPU=1 puts the upstream beside the proxy instead. Measured with the same tool and settings each:
#   direct   wrk  -> upstream (plain HTTP, the ceiling)
#   nginx    wrk  -> nginx  (TLS, HTTP/1.1 keep-alive) -> upstream (keep-alive pool)
#   pforte   wrk  -> pforte (TLS, HTTP/1.1 keep-alive) -> upstream (keep-alive pool)
#   and the same two proxies over HTTP/2 with h2load.
# The upstream is nginx answering a small static body. Access logs are off on both proxies.
# Each row is run ROUNDS times, interleaved, and the medians are compared. Prints req/s, p50, p99
# and the proxy's CPU use (with its kernel part and the CPU time per request) per row, the ratio
# of requests per CPU second (steadier than req/s on a busy machine: it holds also when a proxy
# did not saturate its core) and, last, `proxy_ratio_vs_nginx=<pforte/nginx req/s, HTTP/1.1>`.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
STREAMS=${STREAMS:-10}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
UPSTREAM_CPU=${UPSTREAM_CPU:-0}
HOST=bench.localhost

for tool in nginx wrk h2load openssl taskset curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install nginx-light wrk nghttp2-client openssl util-linux curl" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 "${2:-100}"); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }   # port [tenths of a second]

if [ -n "${PFORTE_BIN:-}" ]; then   # PFORTE_BIN=path: measure that binary (e.g. an older build)
  pforte_bin=$PFORTE_BIN
else
  echo "building release binary..." >&2
  cargo build --release --bin pforte -q
  pforte_bin=${CARGO_TARGET_DIR:-target}/release/pforte
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$HOST" \
  -addext "subjectAltName=DNS:$HOST" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

UPSTREAM=$(free_port); NGINX=$(free_port); PFORTE=$(free_port); ADMIN=$(free_port)
mkdir -p "$work/upstream" "$work/nginx"

cat > "$work/upstream/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/upstream/nginx.pid;
error_log $work/upstream/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/upstream; proxy_temp_path $work/upstream; fastcgi_temp_path $work/upstream;
  uwsgi_temp_path $work/upstream; scgi_temp_path $work/upstream;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$UPSTREAM; location / { return 200 "hello from the upstream\n"; } }
}
CONF

cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  upstream app { server 127.0.0.1:$UPSTREAM; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX ssl http2;
    server_name $HOST;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
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
cat > "$work/gateway.toml" <<CONF
[server]
listen = ["127.0.0.1:$PFORTE"]
[admin]
listen = "127.0.0.1:$ADMIN"
[limits]
max_connections = 10000
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

taskset -c "$UPSTREAM_CPU" nginx -p "$work/upstream" -c "$work/upstream/nginx.conf" & pids+=($!)

if [ -n "${CALLGRIND:-}" ]; then
  # User-space instructions per request of each proxy, counted by callgrind: exact and repeatable
  # on a busy machine (the kernel's share, about half of each proxy's CPU time, is not counted).
  # Each proxy runs alone under valgrind; after a warm-up, the counts of two runs of h2load
  # (HTTP/1.1 over TLS, CALLGRIND_A and CALLGRIND_B requests on fresh connections) are
  # subtracted, which leaves the cost of the extra requests without the TLS handshakes.
  command -v valgrind >/dev/null && command -v callgrind_control >/dev/null || { echo "missing valgrind: apt-get install valgrind" >&2; exit 1; }
  wait_port "$UPSTREAM"
  A=${CALLGRIND_A:-2000}; B=${CALLGRIND_B:-12000}
  load() { taskset -c "$LOAD_CPU" h2load --h1 -t1 -c"$CONNECTIONS" -n"$2" "https://$HOST:$1/" --connect-to="127.0.0.1:$1" 2>&1 | awk '/^status codes:/ && $3 != '"$2"' {print "not all answers were 2xx: " $0; exit 1}' >&2; }
  counted() {   # pid: the instructions since the last zeroing
    callgrind_control -d "$1" >/dev/null 2>&1; sleep 1
    awk '/^summary:/ {print $2; exit}' "$(ls -t "$work"/callgrind.out."$1".* | head -1)"
  }
  instructions() {   # name port command...: prints instructions per request
    local name=$1 port=$2; shift 2
    taskset -c "$SERVER_CPU" valgrind --tool=callgrind --compress-strings=no --callgrind-out-file="$work/callgrind.out.%p" \
      "$@" 2> "$work/$name.valgrind.log" & local pid=$!
    pids+=("$pid")
    wait_port "$port" 600 && load "$port" 2000
    callgrind_control -z "$pid" >/dev/null 2>&1; load "$port" "$A"; local a; a=$(counted "$pid")
    callgrind_control -z "$pid" >/dev/null 2>&1; load "$port" "$B"; local b; b=$(counted "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    awk -v a="$a" -v b="$b" -v n="$((B - A))" 'BEGIN {printf "%.0f", (b - a) / n}'
  }
  sed 's/^worker_processes 1;/master_process off;/' "$work/nginx/nginx.conf" > "$work/nginx/callgrind.conf"
  nginx_i=$(instructions nginx "$NGINX" nginx -p "$work/nginx" -c "$work/nginx/callgrind.conf")
  pforte_i=$(instructions pforte "$PFORTE" "$pforte_bin" run --config "$work/gateway.toml")
  echo "instructions per request (user space, https/1.1): nginx $nginx_i, pforte $pforte_i" >&2
  echo "instructions_per_request_pforte=$pforte_i"
  echo "instructions_per_request_nginx=$nginx_i"
  exit 0
fi
taskset -c "$SERVER_CPU" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" & pids+=($!)
taskset -c "$SERVER_CPU" "$pforte_bin" run --config "$work/gateway.toml" 2> "$work/pforte.log" & pids+=($!)
wait_port "$UPSTREAM"; wait_port "$NGINX"; wait_port "$PFORTE"
for port in "$NGINX" "$PFORTE"; do
  curl -sfk --resolve "$HOST:$port:127.0.0.1" "https://$HOST:$port/" >/dev/null || { echo "proxy on $port does not answer" >&2; cat "$work/pforte.log" >&2; exit 1; }
done

# wrk: "Requests/sec" and the 50%/99% lines of --latency, latencies normalised to ms.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat" 2>/dev/null || echo 0 0; }   # utime stime
run_wrk() {   # name url [pid: report its CPU use during the run]
  local before="0 0"; [ -n "${3:-}" ] && before=$(cpu_ticks "$3")
  local out; out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Host: $HOST" "$2")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
  p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
  local cpu="" per_request=0
  # The proxy's CPU use during the run (user + system time, and the system part) and its CPU
  # time per request: the per-core cost, which holds also when the proxy was not saturated.
  if [ -n "${3:-}" ]; then
    read -r cpu per_request < <(echo "$before $(cpu_ticks "$3")" | awk -v d="$DURATION" -v hz="$(getconf CLK_TCK)" -v r="$rps" \
      '{u = ($3 - $1) / hz / d; s = ($4 - $2) / hz / d; printf "cpu=%.0f%%,kernel=%.0f%%,%.1fus/req %.2f\n", 100 * (u + s), 100 * s, 1e6 * (u + s) / r, 1e6 * (u + s) / r}')
    cpu="   ${cpu//,/ }"
  fi
  printf '%-24s %10s req/s   p50 %8s ms   p99 %8s ms%s\n' "$1" "$rps" "$p50" "$p99" "$cpu" >&2
  echo "$rps $per_request"
}
# h2load: "finished in ..., N req/s"; p50 and p99 from its per-request log (duration in µs).
run_h2() {   # name port
  local log=$work/h2load.log
  local out; out=$(taskset -c "$LOAD_CPU" h2load -t1 -c"$CONNECTIONS" -m"$STREAMS" -D"$DURATION" --warm-up-time=1 \
    --log-file="$log" "https://$HOST:$2/" --connect-to="127.0.0.1:$2" 2>&1) || { echo "$out" >&2; return 1; }
  local rps p50 p99
  rps=$(awk '/^finished in/ {for (i=1;i<=NF;i++) if ($(i+1)=="req/s,") {v=$i; gsub(",","",v); printf "%.0f", v}}' <<<"$out")
  read -r p50 p99 < <(awk '{print $3}' "$log" | sort -n | awk '{v[NR]=$1} END {printf "%.2f %.2f\n", v[int(NR*0.5)]/1000, v[int(NR*0.99)]/1000}')
  printf '%-24s %10s req/s   p50 %8s ms   p99 %8s ms\n' "$1" "$rps" "$p50" "$p99" >&2
  echo "$rps"
}

echo "cores: load generator on $LOAD_CPU, upstream on $UPSTREAM_CPU, proxies on $SERVER_CPU; ${DURATION}s each, $CONNECTIONS connections, $ROUNDS rounds (median)" >&2
nginx_worker=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1)
median() { awk -v c="${1:-1}" '{print $c}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }   # [column]
declare -a direct_r nginx_r pforte_r nginx2_r pforte2_r
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round" >&2
  direct_r+=("$(run_wrk "direct (http/1.1)" "http://127.0.0.1:$UPSTREAM/")")
  nginx_r+=("$(run_wrk "nginx (https/1.1)" "https://127.0.0.1:$NGINX/" "$nginx_worker")")
  if [ -n "${PROFILE:-}" ] && [ "$round" = 1 ]; then   # PROFILE=out.data: perf samples of Pforte
    perf record -e cpu-clock -F 1999 --call-graph dwarf,16384 -o "$PROFILE" -p "${pids[2]}" -- sleep "$DURATION" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  pforte_r+=("$(run_wrk "pforte (https/1.1)" "https://127.0.0.1:$PFORTE/" "${pids[2]}")")
  [ -n "${perf_pid:-}" ] && { wait "$perf_pid"; perf_pid=""; }
  nginx2_r+=("$(run_h2 "nginx (h2, ${STREAMS} streams)" "$NGINX")")
  pforte2_r+=("$(run_h2 "pforte (h2, ${STREAMS} streams)" "$PFORTE")")
done
direct=$(printf '%s\n' "${direct_r[@]}" | median)
nginx_h1=$(printf '%s\n' "${nginx_r[@]}" | median)
pforte_h1=$(printf '%s\n' "${pforte_r[@]}" | median)
nginx_h2=$(printf '%s\n' "${nginx2_r[@]}" | median)
pforte_h2=$(printf '%s\n' "${pforte2_r[@]}" | median)
nginx_us=$(printf '%s\n' "${nginx_r[@]}" | median 2)
pforte_us=$(printf '%s\n' "${pforte_r[@]}" | median 2)
echo "medians: direct $direct, nginx https/1.1 $nginx_h1, pforte https/1.1 $pforte_h1, nginx h2 $nginx_h2, pforte h2 $pforte_h2 req/s" >&2
echo "CPU time per request (https/1.1): nginx $nginx_us us, pforte $pforte_us us" >&2

if [ -n "${SYSCALLS:-}" ]; then   # system calls per request of both proxies (strace -c, 3 s each)
  for target in "nginx:$nginx_worker:$NGINX" "pforte:${pids[2]}:$PFORTE"; do
    IFS=: read -r name pid port <<<"$target"
    timeout 6 strace -f -c -p "$pid" -o "$work/$name.strace" 2>/dev/null & st=$!
    sleep 1
    n=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d3s -H "Host: $HOST" "https://127.0.0.1:$port/" | awk '/requests in/ {print $1}')
    wait "$st" || true
    awk -v n="$n" -v name="$name" '$NF=="total" {printf "%s: %.1f system calls per request\n", name, $(NF-2)/n}' "$work/$name.strace" >&2
  done
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
echo "pforte/nginx https/1.1: $(ratio "$pforte_h1" "$nginx_h1")   h2: $(ratio "$pforte_h2" "$nginx_h2")   pforte/direct: $(ratio "$pforte_h1" "$direct")" >&2
echo "pforte/nginx requests per CPU second (https/1.1): $(ratio "$nginx_us" "$pforte_us")" >&2
echo "proxy_ratio_vs_nginx=$(ratio "$pforte_h1" "$nginx_h1")"
