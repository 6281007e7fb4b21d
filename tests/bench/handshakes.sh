#!/usr/bin/env bash
# TLS handshakes: full (ECDHE, the server's P-256 certificate signed anew) and resumed (a
# TLS 1.3 ticket from an earlier connection), Pforte against nginx in one run.
#
#   tests/bench/handshakes.sh                 # 10 s per measurement, 3 interleaved rounds
#   DURATION=20 ROUNDS=5 CONCURRENCY=32 tests/bench/handshakes.sh
#   PFORTE_BIN=/path/to/pforte tests/bench/handshakes.sh
#
# Each connection (the load driver, tests/bench/load, `handshakes` mode, rustls): TCP connect,
# TLS handshake, one small GET with `Connection: close` proxied to the upstream, the answer
# read to its end, close. CONCURRENCY clients at once. Full: the driver never resumes. Resumed:
# each client keeps the tickets it receives, in a store of its own as a browser does, and offers
# one on every connection (the row reports how many handshakes really were resumptions).
#
# Cores (2): the server under test alone on core 1 (nginx: one worker, no master; Pforte: tokio
# sees the one core it may use); the driver and the upstream (nginx answering a small body) on
# core 0. Per row: connections per second, and connections per CPU second of the server (its
# user + system time from /proc over the window): the per-core figure, which holds even when
# the driver could not saturate the server. Last lines: handshakes_full_per_cpu_s_{pforte,nginx}=,
# handshakes_resumed_per_cpu_s_{pforte,nginx}=, and the ratios pforte/nginx.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/lib.sh

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-16}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
HOST=bench.localhost

require_tools nginx openssl taskset curl python3
scratch_folder

pforte_bin
build_driver
make_certs "$work" "$HOST"
start_proxies "$work" "$HOST" "$LOAD_CPU" "$SERVER_CPU"

hz=$(getconf CLK_TCK)
measure() {   # name port pid kind(full|resumed): prints "per_second per_cpu_second"
  local name=$1 port=$2 pid=$3 kind=$4 resume=() before after out
  [ "$kind" = resumed ] && resume=(--resume)
  before=$(cpu_ticks "$pid")
  out=$(taskset -c "$LOAD_CPU" "$driver" --url "https://$HOST/" --connect "127.0.0.1:$port" --ca "$work/ca.pem" \
    --warmup 0 --duration "$DURATION" handshakes --concurrency "$CONCURRENCY" "${resume[@]}")
  after=$(cpu_ticks "$pid")
  local n rate resumed errors
  n=$(sed -n 's/^connections=//p' <<<"$out"); rate=$(sed -n 's/^per_second=//p' <<<"$out")
  resumed=$(sed -n 's/^resumed=//p' <<<"$out"); errors=$(sed -n 's/^errors=//p' <<<"$out")
  local per_cpu share
  per_cpu=$(awk -v n="$n" -v t="$((after - before))" -v hz="$hz" 'BEGIN {printf "%.0f", (t > 0) ? n * hz / t : 0}')
  share=$(awk -v t="$((after - before))" -v hz="$hz" -v d="$DURATION" 'BEGIN {printf "%.0f", 100 * t / hz / d}')
  printf '  %-8s %-8s %7s conn/s   %7s conn/cpu-s   server cpu %3s%%   resumed %6s of %6s   errors %s\n' \
    "$name" "$kind" "$rate" "$per_cpu" "$share" "$resumed" "$n" "$errors" >&2
  echo "$per_cpu"
}

echo "servers alone on core $SERVER_CPU, driver and upstream on core $LOAD_CPU; $CONCURRENCY clients, ${DURATION}s per row, $ROUNDS rounds (median)" >&2
declare -A rows
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round" >&2
  for kind in full resumed; do
    rows[nginx_$kind]+="$(measure nginx "$NGINX" "$nginx_pid" "$kind") "
    rows[pforte_$kind]+="$(measure pforte "$PFORTE" "$pforte_pid" "$kind") "
  done
done
for kind in full resumed; do
  for server in pforte nginx; do
    value=$(tr ' ' '\n' <<<"${rows[${server}_$kind]}" | grep . | median)
    printf -v "m_${server}_$kind" '%s' "$value"
    echo "handshakes_${kind}_per_cpu_s_$server=$value"
  done
  p=m_pforte_$kind; n=m_nginx_$kind
  echo "handshakes_${kind}_ratio_vs_nginx=$(awk -v a="${!p}" -v b="${!n}" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')"
done
