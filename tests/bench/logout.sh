#!/usr/bin/env bash
# How soon one logout reaches everything: two gateways on one Redis, four ways a session ends,
# each repeated, with the distribution of the two times the one-second goal is about.
#
#   tests/bench/logout.sh                  # 20 runs of each kind
#   QUICK=1 tests/bench/logout.sh          # 5 runs of each kind
#   LOAD=32 tests/bench/logout.sh          # the same while wrk keeps both replicas busy
#   RUNS=50 tests/bench/logout.sh
#   PFORTE_BIN=/path/to/pforte PFORTE_ADMIN_BIN=/path/to/pforte-admin tests/bench/logout.sh
#
# The measuring is the end-to-end test's (tests/e2e/logout_bound.rs), run with
# PFORTE_LOGOUT_RUNS=RUNS against release builds of pforte and pforte-admin: per run a new person
# in slapd logs in through replica A, gets tokens for two clients with back-channel logout URIs
# (one through A, one through B), B lets the session in; then the session ends by
#   portal         POST /logout on A's login host
#   end_session    GET /oidc/end_session?id_token_hint=... on A (RP-initiated logout)
#   admin_revoke   POST /sessions/revoke?sid=... on A's admin listener
#   offboarding    pforte-admin users disable NAME (LDAP, then the sessions in Redis; no gateway)
# Times count from the moment the logout is asked for (the request sent, the command started):
#   first delivery   the first back-channel logout call arriving at a client (the test checks
#                    that every client gets a valid logout token for the session, once)
#   all delivered    the last of the two clients' calls
#   refused on B     the first answer of replica B refusing the session cookie (B is asked
#                    over and over, a new TLS connection each time, from before the logout)
# (The test file's behaviour-only test, a client that is down, is skipped.)
# The client side is the test binary (a debug build, as ./tests/run makes it): its own request
# or command start is inside each figure, so they are upper bounds of the gateways' part.
#
# Cores (2): the test (client, relying parties) on core 0 (LOAD_CPU); both gateways, Redis and
# slapd on core 1 (SERVER_CPU), with taskset. One session at a time; with LOAD=N, wrk (on core
# 0, at nice 10 so the measuring test goes first) keeps N connections per replica asking for
# mail without a session (answered with the redirect to the login) all along. The server
# core's busy share over the test run is printed (/proc/stat: every process on the core, the
# test's own traffic included).
# Per kind and measure: p50, p95 (nearest rank), max, and "goal 1 s: met" when the max is
# within 1 s. Last lines: logout_first_delivery_max_ms=, logout_refused_on_b_max_ms=,
# logout_goal_1s=met|not met.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-20}
[ "${QUICK:-0}" = 1 ] && RUNS=${QUICK_RUNS:-5}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}

export PATH=$PATH:/usr/sbin:/sbin
for tool in taskset slapd redis-server ldapadd python3 cargo; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./tests/run once (it installs everything)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (the gateways on one, the test on the other)" >&2; exit 1; }

work=$(mktemp -d)
cleanup() {
  deploy/dev/services.sh stop "$work/svc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

target=${CARGO_TARGET_DIR:-target}
echo "building release binaries and the test..." >&2
if [ -z "${PFORTE_BIN:-}" ] || [ -z "${PFORTE_ADMIN_BIN:-}" ]; then
  cargo build --release -q --bin pforte --bin pforte-admin
fi
pforte=$(realpath "${PFORTE_BIN:-$target/release/pforte}")
pforte_admin=$(realpath "${PFORTE_ADMIN_BIN:-$target/release/pforte-admin}")
cargo test -q -p pforte-e2e --test e2e --no-run

# The test starts the binaries itself: wrappers put them on the server core (exec keeps the pid,
# so the test stops the real process).
for name in pforte pforte-admin; do
  real=$pforte; [ "$name" = pforte-admin ] && real=$pforte_admin
  printf '#!/bin/sh\nexec taskset -c %s %q "$@"\n' "$SERVER_CPU" "$real" > "$work/$name"
  chmod +x "$work/$name"
done
export PFORTE_BIN=$work/pforte PFORTE_ADMIN_BIN=$work/pforte-admin

mkdir -p "$work/svc"
LDAP_LOG_LEVEL=none taskset -c "$SERVER_CPU" deploy/dev/services.sh start "$work/svc" 2>/dev/null
eval "$(deploy/dev/services.sh env "$work/svc")"
export PFORTE_REPO_ROOT=$PWD

if [ -n "${LOAD:-}" ]; then
  command -v wrk >/dev/null || { echo "missing wrk: run ./tests/run once (it installs everything)" >&2; exit 1; }
  export PFORTE_LOGOUT_LOAD=$LOAD
fi
echo "gateways, Redis and slapd on core $SERVER_CPU, the test on core $LOAD_CPU; $RUNS runs of each kind${LOAD:+; wrk with $LOAD connections per replica}" >&2
busy() { awk -v cpu="cpu$SERVER_CPU" '$1 == cpu {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
read -r busy0 all0 < <(busy)
PFORTE_LOGOUT_RUNS=$RUNS taskset -c "$LOAD_CPU" cargo test -q -p pforte-e2e --test e2e -- \
  logout_bound --skip logout_bound::a_client_that_is_down --test-threads=1 --nocapture \
  > "$work/test.log" 2>&1 ||
  { tail -40 "$work/test.log" >&2; echo "the test failed" >&2; exit 1; }

read -r busy1 all1 < <(busy)
echo "core $SERVER_CPU busy $(( 100 * (busy1 - busy0) / (all1 - all0) )) % of the test's run" >&2
grep -o 'logout-load .*' "$work/test.log" | sed 's/^logout-load /wrk: /' >&2 || true
grep -o 'logout-timing .*' "$work/test.log" > "$work/timings"
python3 - "$work/timings" <<'PY'
import math, sys
rows = [dict(f.split("=", 1) for f in line.split()[1:]) for line in open(sys.argv[1])]
measures = [("first_delivery_ms", "first delivery"), ("all_delivered_ms", "all delivered"),
            ("refused_on_b_ms", "refused on B")]
def rank(values, q):
    return values[max(0, math.ceil(q * len(values)) - 1)]
worst = {}
print(f"{'kind':<13} {'measure':<15} {'runs':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  goal 1 s")
for kind in ["portal", "end_session", "admin_revoke", "offboarding"]:
    for key, label in measures:
        values = sorted(float(r[key]) for r in rows if r["kind"] == kind)
        if not values:
            continue
        top = values[-1]
        worst[key] = max(worst.get(key, 0.0), top)
        verdict = "met" if top <= 1000 else "not met"
        print(f"{kind:<13} {label:<15} {len(values):>4} {rank(values, .5):>8.1f} "
              f"{rank(values, .95):>8.1f} {top:>8.1f}  {verdict}")
print(f"logout_first_delivery_max_ms={worst['first_delivery_ms']:.1f}")
print(f"logout_refused_on_b_max_ms={worst['refused_on_b_ms']:.1f}")
met = worst["first_delivery_ms"] <= 1000 and worst["refused_on_b_ms"] <= 1000
print(f"logout_goal_1s={'met' if met else 'not met'}")
PY
