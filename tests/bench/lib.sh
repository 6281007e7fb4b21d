# Shared by tests/bench/latency.sh, handshakes.sh and soak.sh (sourced, not run): ports, an
# nginx config, a CA with a P-256 server certificate, CPU time of a process, the load driver.

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
