# Shared by tests/bench/latency.sh, handshakes.sh, soak.sh and federation.sh (sourced, not run): the tools
# check, the scratch folder, ports, an nginx config, a CA with a P-256 server certificate, CPU
# time of a process, the load driver.

# require_tools TOOL...: stops with a hint when one is missing (./tests/run installs them all).
# /usr/sbin (nginx, slapd) is put on the PATH first.
require_tools() {
  export PATH=$PATH:/usr/sbin
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing $tool: run ./tests/run once (it installs everything)" >&2; exit 1; }
  done
}

# scratch_folder: $work, a temporary folder, and $pids, the processes the script starts; on any
# exit the processes are stopped and the folder removed.
scratch_folder() {
  work=$(mktemp -d)
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {   # port [tenths of a second]
  for _ in $(seq 1 "${2:-100}"); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "port $1 did not open" >&2; return 1
}

# nginx_conf DIR SERVER-BLOCKS: one worker, no master (its pid is the worker's, whose CPU time
# is then the whole server's), no access log, in the foreground.
nginx_conf() {
  cat > "$1/nginx.conf" <<CONF
master_process off;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $1; proxy_temp_path $1; fastcgi_temp_path $1; uwsgi_temp_path $1; scgi_temp_path $1;
  keepalive_requests 1000000;
  $2
}
CONF
}

# make_certs DIR NAME: DIR/ca.pem (a CA the load driver trusts) and DIR/cert.pem + key.pem for
# NAME and *.NAME, P-256 with ECDSA, as a browser-trusted server certificate would be.
make_certs() {
  local dir=$1 name=$2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=Bench CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
    -keyout "$dir/key.pem" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:*.%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
    "$name" "$name" > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/server.ext" -out "$dir/cert.pem" 2>/dev/null
}

# CPU seconds (user + system) process $1 has used so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# build_driver: builds tests/bench/load (its own workspace) and sets $driver to the binary.
build_driver() {
  local target; target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
  cargo build --release -q --manifest-path tests/bench/load/Cargo.toml --target-dir "$target/bench-load"
  driver=$target/bench-load/release/pforte-bench-load
}

# pforte_bin: sets $pforte_bin to PFORTE_BIN or a release build made now.
pforte_bin() {
  if [ -n "${PFORTE_BIN:-}" ]; then pforte_bin=$PFORTE_BIN; return; fi
  echo "building release binary..." >&2
  cargo build --release --bin pforte -q
  pforte_bin=${CARGO_TARGET_DIR:-target}/release/pforte
}

# start_proxies WORK HOST LOAD_CPU SERVER_CPU: the comparison every proxy benchmark makes. An
# upstream (nginx answering a small body, on LOAD_CPU), nginx as a TLS reverse proxy to it and
# Pforte with an `everyone` rule for HOST (both on SERVER_CPU), all checked to answer. Needs
# make_certs and pforte_bin first. Sets UPSTREAM, NGINX and PFORTE (ports), nginx_pid and
# pforte_pid, and appends the processes to pids.
start_proxies() {
  local work=$1 host=$2 load_cpu=$3 server_cpu=$4 port
  UPSTREAM=$(free_port); NGINX=$(free_port); PFORTE=$(free_port)
  mkdir -p "$work/upstream" "$work/nginx"
  nginx_conf "$work/upstream" "server { listen 127.0.0.1:$UPSTREAM; location / { return 200 \"hello from the upstream\\n\"; } }"
  nginx_conf "$work/nginx" "upstream app { server 127.0.0.1:$UPSTREAM; keepalive 64; }
  ssl_session_cache shared:SSL:10m;
  server {
    listen 127.0.0.1:$NGINX ssl;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\";
      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; }
  }"
  printf '[[app]]\nname = "bench"\nhosts = ["%s"]\nupstreams = ["http://127.0.0.1:%s"]\n' "$host" "$UPSTREAM" > "$work/apps.toml"
  printf '[[rule]]\napps = ["bench"]\npaths = ["/"]\nallow = ["everyone"]\n' > "$work/policy.toml"
  cat > "$work/gateway.toml" <<CONF
[server]
listen = ["127.0.0.1:$PFORTE"]
[admin]
listen = "127.0.0.1:$(free_port)"
[[tls.certificates]]
cert = "cert.pem"
key = "key.pem"
[portal]
host = "login.$host"
[apps]
file = "apps.toml"
[policy]
file = "policy.toml"
[log]
level = "warn"
CONF
  taskset -c "$load_cpu" nginx -p "$work/upstream" -c "$work/upstream/nginx.conf" & pids+=($!)
  taskset -c "$server_cpu" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" & pids+=($!)
  nginx_pid=$!
  taskset -c "$server_cpu" "$pforte_bin" run --config "$work/gateway.toml" 2> "$work/pforte.log" & pids+=($!)
  pforte_pid=$!
  wait_port "$UPSTREAM"; wait_port "$NGINX"; wait_port "$PFORTE"
  for port in "$NGINX" "$PFORTE"; do
    curl -sf --cacert "$work/ca.pem" --resolve "$host:$port:127.0.0.1" "https://$host:$port/" >/dev/null ||
      { echo "the proxy on $port does not answer" >&2; cat "$work/pforte.log" >&2; return 1; }
  done
}
