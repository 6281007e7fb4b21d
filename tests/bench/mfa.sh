#!/usr/bin/env bash
# What a second factor costs Pforte per login: a password + TOTP login against a password-only
# login in the same run, measured as the CPU time of the pforte process per login.
#
#   tests/bench/mfa.sh                       # 1000 logins of each kind per round, 3 rounds
#   LOGINS=2000 ROUNDS=5 tests/bench/mfa.sh
#   ARGON2=8,1 tests/bench/mfa.sh            # cheapest password hash: the gateway's own work
#   PFORTE_BIN=/path/to/pforte tests/bench/mfa.sh
#
# The gateway: the people file directory (argon2id password hashes, the default 19456 KiB and
# 2 passes as in the demo; ARGON2=M_KIB,T for others) and the memory session store, with [mfa].
# ROUNDS x LOGINS people (factors/examples/bench_people.rs), each with an authenticator app
# sealed with the gateway's key. The load generator (tests/bench/mfa_load.py) plays their apps.
#   password  POST /login                                   (argon2id check, session)
#   totp      POST /login, then POST /mfa with a fresh code (open the sealed secret, two
#             HMAC-SHA-1, replay guard read and write, session stepped up)
# Each person logs in with a code once per run: a TOTP code is accepted once per person and
# 30-second step (the replay guard), so a run over few people would measure refusals instead.
# Recovery codes are not used: they are argon2id hashes, a different (much larger) cost.
#
# Cores: pforte (all its threads) pinned to core 0 with taskset; the load generator on core 1.
# CPU: utime + stime of the pforte process from /proc/PID/stat before and after each batch,
# divided by the logins in the batch. Rounds alternate password and totp batches over the same
# people; medians over the rounds.
# Last lines: password_cpu_ms_per_login=, totp_cpu_ms_per_login=, totp_ratio_vs_password=.
set -euo pipefail
cd "$(dirname "$0")/../.."

LOGINS=${LOGINS:-1000}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-4}
ARGON2=${ARGON2:-19456,2}
HOST=bench.localhost

for tool in openssl taskset python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./tests/run once (it installs everything)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (pforte on one, the load generator on the other)" >&2; exit 1; }

work=$(mktemp -d)
pforte_pid=""
cleanup() {
  [ -n "$pforte_pid" ] && kill "$pforte_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }

echo "building release binaries..." >&2
target=${CARGO_TARGET_DIR:-target}
if [ -z "${PFORTE_BIN:-}" ]; then
  cargo build --release -q -p pforte --bin pforte
  PFORTE_BIN=$target/release/pforte
fi
cargo build --release -q -p pforte-factors --example bench_people

people=$(( LOGINS * ROUNDS ))
openssl rand -hex 32 > "$work/mfa.key"
echo "making $people people (argon2id m=${ARGON2%,*} KiB, t=${ARGON2#*,})..." >&2
"$target/release/examples/bench_people" "$(cat "$work/mfa.key")" "$people" "$work" "${ARGON2%,*}" "${ARGON2#*,}"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$HOST" \
  -addext "subjectAltName=DNS:$HOST,DNS:*.$HOST" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
PFORTE=$(free_port); ADMIN=$(free_port); UPSTREAM=$(free_port)
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
login = "mfa"
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
[directory]
backend = "file"
file = "people.toml"
[mfa]
key = { file = "mfa.key" }
[sessions.throttle]
free_failures = 1000000
lock_after = 2000000
[log]
level = "warn"
CONF

taskset -c 0 "$PFORTE_BIN" run --config "$work/gateway.toml" 2> "$work/pforte.log" &
pforte_pid=$!
wait_port "$PFORTE"
taskset -apc 0 "$pforte_pid" >/dev/null

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
batch() {   # kind first -> prints CPU ms per login
  local kind=$1 first=$2 before after out
  before=$(cpu_ticks "$pforte_pid")
  out=$(taskset -c 1 python3 tests/bench/mfa_load.py "$PFORTE" "login.$HOST" "$work/secrets.txt" \
    "$first" "$LOGINS" "$kind" "$CONNECTIONS") || { echo "$out" >&2; tail -5 "$work/pforte.log" >&2; exit 1; }
  after=$(cpu_ticks "$pforte_pid")
  local per; per=$(awk -v a="$before" -v b="$after" -v hz="$hz" -v n="$LOGINS" 'BEGIN {printf "%.3f", (b - a) * 1000 / hz / n}')
  local secs; secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
  printf '  %-9s %6d logins in %6s s   pforte cpu %8.3f ms/login   %7.0f logins/s\n' \
    "$kind" "$LOGINS" "$secs" "$per" "$(awk -v n="$LOGINS" -v s="$secs" 'BEGIN {print n / s}')" >&2
  echo "$per"
}

# A warm-up batch (connections, allocator, caches) on people the rounds do not use for codes.
echo "pforte on core 0, load generator on core 1; $LOGINS logins per batch, $ROUNDS rounds, $CONNECTIONS connections" >&2
taskset -c 1 python3 tests/bench/mfa_load.py "$PFORTE" "login.$HOST" "$work/secrets.txt" 0 "$(( LOGINS < 200 ? LOGINS : 200 ))" password "$CONNECTIONS" >/dev/null
declare -a password_r totp_r
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round" >&2
  first=$(( (round - 1) * LOGINS ))
  password_r+=("$(batch password "$first")")
  totp_r+=("$(batch totp "$first")")
done
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
password=$(printf '%s\n' "${password_r[@]}" | median)
totp=$(printf '%s\n' "${totp_r[@]}" | median)
echo "medians: password-only $password ms, password + TOTP $totp ms of pforte CPU per login" >&2
echo "password_cpu_ms_per_login=$password"
echo "totp_cpu_ms_per_login=$totp"
echo "totp_ratio_vs_password=$(awk -v a="$totp" -v b="$password" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }')"
