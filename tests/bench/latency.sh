#!/usr/bin/env bash
# Latency at a fixed rate: what Pforte adds to a request over a direct connection to the
# upstream, side by side with nginx, at half of nginx's maximum rate, in one run.
#
#   tests/bench/latency.sh                    # 20 s per row, 3 interleaved rounds, medians
#   DURATION=60 ROUNDS=5 tests/bench/latency.sh
#   RATE=4000 tests/bench/latency.sh          # a given rate instead of half of nginx's maximum
#   PFORTE_BIN=/path/to/pforte tests/bench/latency.sh
#
# First nginx's maximum is measured (wrk, HTTPS/1.1 keep-alive, CONNECTIONS connections, DURATION
# seconds); the rate is half of it (RATE overrides). Then every row gets the same constant rate
# from the load driver (tests/bench/load, `rate` mode, CONNECTIONS keep-alive connections, each
# with its share of the rate). Latency counts from when a request was due, not from when it was
# sent, so a stall is charged to every request that should have gone out meanwhile (wrk2's
# correction of coordinated omission). Rows:
#   direct   driver -> upstream (plain HTTP): the floor
#   nginx    driver -> nginx  (TLS) -> upstream (keep-alive pool)
#   pforte   driver -> pforte (TLS) -> upstream (keep-alive pool), an `everyone` rule
# Cores (2): the proxies alone on core 1; the driver and the upstream (nginx, small static body)
# on core 0. Per row p50, p99, p99.9 and max; per proxy the median over the rounds of each
# percentile and what it adds over direct. Last lines: latency_rate=, latency_added_{p50,p99,p999}_ms_{pforte,nginx}=.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/bench/lib.sh

DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
HOST=bench.localhost

require_tools nginx wrk openssl taskset curl python3
scratch_folder

pforte_bin
build_driver
make_certs "$work" "$HOST"
start_proxies "$work" "$HOST" "$LOAD_CPU" "$SERVER_CPU"

if [ -z "${RATE:-}" ]; then
  max=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -H "Host: $HOST" "https://127.0.0.1:$NGINX/" |
    awk '/^Requests\/sec/ {printf "%.0f", $2}')
  RATE=$(( max / 2 ))
  echo "nginx's maximum: $max req/s (wrk, $CONNECTIONS connections); the rate: $RATE req/s" >&2
fi

row() {   # name url port: prints "p50 p99 p999"
  local out
  out=$(taskset -c "$LOAD_CPU" "$driver" --url "$2" --connect "127.0.0.1:$3" --ca "$work/ca.pem" \
    --warmup 3 --duration "$DURATION" rate --rate "$RATE" --connections "$CONNECTIONS")
  local get; get() { sed -n "s/^$1=//p" <<<"$out"; }
  printf '  %-7s %6s req/s   p50 %7s ms   p99 %7s ms   p99.9 %7s ms   max %7s ms   errors %s   bad status %s\n' \
    "$1" "$(get achieved_rps)" "$(get p50_ms)" "$(get p99_ms)" "$(get p999_ms)" "$(get max_ms)" "$(get errors)" "$(get bad_status)" >&2
  echo "$(get p50_ms) $(get p99_ms) $(get p999_ms)"
}

echo "proxies alone on core $SERVER_CPU, driver and upstream on core $LOAD_CPU; $RATE req/s on $CONNECTIONS connections, ${DURATION}s per row, $ROUNDS rounds (median)" >&2
declare -A runs
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round" >&2
  runs[direct]+="$(row direct "http://$HOST/" "$UPSTREAM");"
  runs[nginx]+="$(row nginx "https://$HOST/" "$NGINX");"
  runs[pforte]+="$(row pforte "https://$HOST/" "$PFORTE");"
done
column_median() { tr ';' '\n' <<<"$1" | grep . | awk -v c="$2" '{print $c}' | median; }
echo "latency_rate=$RATE"
for i in 1 2 3; do
  name=(x p50 p99 p999)
  direct=$(column_median "${runs[direct]}" "$i")
  for proxy in pforte nginx; do
    value=$(column_median "${runs[$proxy]}" "$i")
    echo "latency_${name[$i]}_ms_$proxy=$value"
    echo "latency_added_${name[$i]}_ms_$proxy=$(awk -v a="$value" -v b="$direct" 'BEGIN {printf "%.3f", a - b}')"
  done
  echo "latency_${name[$i]}_ms_direct=$direct"
done
