#!/usr/bin/env bash
# The session store's primary dies under load (issue 16, point 1), with the figures.
#
#   tests/scenarios/failover.sh                 # 4 browsers per gateway, 10 s of load first
#   WORKERS=8 WARM=20 tests/scenarios/failover.sh
#   QUICK=1 tests/scenarios/failover.sh         # 1 browser per gateway, 3 s (about a minute)
#   PFORTE_BIN=/path/to/pforte PFORTE_ADMIN_BIN=/path/to/pforte-admin tests/scenarios/failover.sh
#
# What runs (the measuring is the end-to-end test tests/e2e/failover.rs, run with
# PFORTE_FAILOVER_* against release builds of pforte and pforte-admin):
#   Redis        a primary, a replica and three sentinels (redis-server, redis-server
#                --sentinel; quorum 2, down-after 1 s) on loopback in a temporary folder
#                (tests/support/sentinel.rs)
#   gateways     three pforte, sessions on that Redis through the sentinels
#                (acknowledge_replicas = 1: WAIT for the replica), people from slapd
#                (deploy/dev/services.sh), the OIDC provider with one public client
#   load         WORKERS browsers per gateway, each in a loop: log in through its gateway
#                (mail → login form → POST → hand-over), use mail through the next gateway,
#                get a code there and exchange it on the next, rotate the refresh token on the
#                third
#   the fault    after WARM seconds, SIGKILL to the primary; Sentinel promotes the replica
# Printed (the test's `failover-figures` line, then the lines below):
#   sessions_lost            acknowledged logins (303 with the session cookie) whose session is
#                            gone after the failover (goal 0)
#   rotations_lost           refresh tokens handed out by a rotation that no longer work (goal 0)
#   login_recovery_ms        from the kill until every gateway has logged someone in again (goal
#                            5000); grant_recovery_ms the same for code exchanges
#   revocation_refused_ms    a logout after the failover (on one gateway): when each gateway
#                            first refused the session (goal 1000)
#   wait_cost_p50_us         what WAIT adds to one login's acknowledged write (a session's
#                            creation), measured at store level against a master and a replica
#                            (session/tests/redis/failover.rs, 1000 creates each way)
# The same load is also run with acknowledge_replicas = 0 (no WAIT), for the login rate and the
# form POST's median latency side by side; that run asserts nothing about losses.
# The machine's other work (builds) shares its cores: say so with the figures.
set -euo pipefail
cd "$(dirname "$0")/../.."

WORKERS=${WORKERS:-4}
WARM=${WARM:-10}
if [ "${QUICK:-0}" = 1 ]; then WORKERS=1; WARM=3; fi

export PATH=$PATH:/usr/sbin:/sbin
for tool in slapd redis-server redis-cli python3 cargo; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./tests/run once (it installs everything)" >&2; exit 1; }
done

work=$(mktemp -d)
cleanup() {
  deploy/dev/services.sh stop "$work/svc" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

target=${CARGO_TARGET_DIR:-target}
echo "building release binaries and the tests..." >&2
if [ -z "${PFORTE_BIN:-}" ] || [ -z "${PFORTE_ADMIN_BIN:-}" ]; then
  cargo build --release -q --bin pforte --bin pforte-admin
fi
export PFORTE_BIN=${PFORTE_BIN:-$(realpath "$target/release/pforte")}
export PFORTE_ADMIN_BIN=${PFORTE_ADMIN_BIN:-$(realpath "$target/release/pforte-admin")}
cargo test -q -p pforte-e2e --test e2e --no-run
cargo test -q -p pforte-session --test redis --no-run

mkdir -p "$work/svc"
LDAP_LOG_LEVEL=none deploy/dev/services.sh start "$work/svc" 2>/dev/null
eval "$(deploy/dev/services.sh env "$work/svc")"
export PFORTE_REPO_ROOT=$PWD

run() {   # $1 = acknowledge_replicas; prints the test's figures line
  PFORTE_FAILOVER_ACK=$1 PFORTE_FAILOVER_WORKERS=$WORKERS PFORTE_FAILOVER_WARM=$WARM \
    cargo test -q -p pforte-e2e --test e2e failover::sessions_survive -- --nocapture --test-threads 1 \
    > "$work/run-$1.log" 2>&1 || { cat "$work/run-$1.log" >&2; echo "the failover run with acknowledge_replicas=$1 failed" >&2; exit 1; }
  grep '^failover-figures' "$work/run-$1.log"
}
field() {   # $1 = figures line, $2 = key
  sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

echo "== without WAIT (acknowledge_replicas = 0): the comparison" >&2
plain=$(run 0)
echo "$plain"
echo "== with WAIT (acknowledge_replicas = 1)" >&2
acked=$(run 1)
echo "$acked"
grep -E '^(failover-sentinel-events|sentinel[0-9])' "$work/run-1.log" || true

echo "== what WAIT costs per login (store level)" >&2
PFORTE_WAIT_ROUNDS=10 cargo test -q -p pforte-session --test redis measure_what_wait_costs -- \
  --ignored --nocapture > "$work/wait.log" 2>&1 || { cat "$work/wait.log" >&2; exit 1; }
wait_line=$(grep '^wait-cost' "$work/wait.log")
echo "$wait_line"

revocations=$(field "$acked" revocation_refused_ms)
echo "sessions_lost=$(field "$acked" lost)"
echo "rotations_lost=$(field "$acked" lost_rotations)"
echo "login_recovery_ms=$(field "$acked" login_recovery_ms)"
echo "grant_recovery_ms=$(field "$acked" grant_recovery_ms)"
echo "revocation_refused_ms=$revocations"
echo "login_rate_per_s_without_wait=$(field "$plain" warm_login_rate_per_s) with_wait=$(field "$acked" warm_login_rate_per_s)"
echo "login_post_p50_ms_without_wait=$(field "$plain" login_post_p50_ms) with_wait=$(field "$acked" login_post_p50_ms)"
echo "wait_cost_p50_us=$(field "$wait_line" wait_cost_p50_us)"
