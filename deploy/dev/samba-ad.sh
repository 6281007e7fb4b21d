#!/usr/bin/env bash
# A throwaway Samba Active Directory domain controller (Debian's samba, samba-ad-dc) with the
# demo people, for the tests. Called by deploy/dev/services.sh (start-ad); usable alone:
#
#   deploy/dev/samba-ad.sh start DIR TLS    provision (once) and start the domain under DIR
#
# TLS is the folder with the harness's private CA (ca.crt, ca.key): the DC's certificate is made
# from it for the DC's own loopback address.
#
# AD's LDAP ports are fixed (389 and 636), so the DC gets a loopback address of its own,
# 127.0.0.N (the first whose ports 389 and 636 are free, from a place that depends on DIR, so that
# two suites on one machine rarely meet); Linux routes all of 127.0.0.0/8 to lo, nothing is
# configured on the interface. Only the LDAP service runs (no DNS, Kerberos, SMB or RPC).
# Provisioning (samba-tool domain provision, about 15 s) writes everything under DIR:
#   DIR/etc/smb.conf, DIR/private/sam.ldb (tdb backend), DIR/samba.log, DIR/samba.pid,
#   DIR/address, DIR/tls/ (the DC's certificate), DIR/admin-password, DIR/service-password
# Domain: realm AD.EXAMPLE.ORG, base DN DC=ad,DC=example,DC=org, NetBIOS name PFORTE.
# People and groups: deploy/dev/samba-ad-seed.py (the demo's, dave disabled by userAccountControl).
# Accounts: the gateway's CN=pforte,CN=Users,… (pfortepw), the admin CN=Administrator,CN=Users,….
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ldap_files=$(cd "$here/../ldap" && pwd)
export PATH=$PATH:/usr/sbin:/sbin
REALM=AD.EXAMPLE.ORG
BASE=DC=ad,DC=example,DC=org
ADMINPW='Admin-pw-1'
SERVICE_PW=pfortepw

log() { printf '[samba-ad %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "$*"; exit 1; }
running() { kill -0 "$1" 2>/dev/null && ! grep -qs '^[0-9]* (.*) Z' "/proc/$1/stat"; }
pid_alive() { [ -f "$1" ] && running "$(cat "$1")"; }
wait_for() {   # $1 = tries of 0.1 s, rest = command
  local n=$1; shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# A loopback address whose ports 389 and 636 nobody holds.
pick_address() {   # $1 = DIR (seeds the starting place)
  python3 - "$1" <<'PY'
import socket, sys, zlib
start = zlib.crc32(sys.argv[1].encode()) % 200
for i in range(200):
    address = f"127.0.0.{2 + (start + i) % 200}"
    try:
        for port in (389, 636):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, port))
            s.close()
    except OSError:
        continue
    print(address)
    break
else:
    sys.exit("no loopback address with ports 389 and 636 free")
PY
}

dc_certificate() {   # $1 = DIR, $2 = tls dir, $3 = address: a leaf for the DC's address
  local dir=$1/tls ca=$2 address=$3
  mkdir -p "$dir"
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$dir/key.pem"
  openssl req -new -key "$dir/key.pem" -subj "/CN=dc1.ad.example.org" -out "$dir/dc.csr" 2>/dev/null
  printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
    'extendedKeyUsage=serverAuth' "subjectAltName=DNS:dc1.ad.example.org,IP:$address" > "$dir/dc.ext"
  openssl x509 -req -in "$dir/dc.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -set_serial "0x$(openssl rand -hex 8)" -days 30 \
    -extfile "$dir/dc.ext" -out "$dir/cert.pem" 2>/dev/null
  cp "$ca/ca.crt" "$dir/ca.pem"
  rm -f "$dir/dc.csr" "$dir/dc.ext"
  chmod 600 "$dir/key.pem"
}

provision() {   # $1 = DIR, $2 = tls dir, $3 = address
  local dir=$1 address=$3
  dc_certificate "$dir" "$2" "$address"
  # DNS, SMB, RPC, Kerberos: off (--dns-backend=NONE, server services = ldap); the tdb store is
  # the quickest to provision.
  samba-tool domain provision --realm="$REALM" --domain=PFORTE --server-role=dc \
    --dns-backend=NONE --backend-store=tdb --host-name=dc1 --host-ip="$address" \
    --adminpass="$ADMINPW" --targetdir="$dir" \
    --option="interfaces = $address/8" --option="bind interfaces only = yes" \
    --option="server services = ldap" --option="log file = $dir/samba.log" \
    --option="pid directory = $dir/run" \
    --option="tls enabled = yes" --option="tls keyfile = $dir/tls/key.pem" \
    --option="tls certfile = $dir/tls/cert.pem" --option="tls cafile = $dir/tls/ca.pem" \
    > "$dir/provision.log" 2>&1 || die "samba-tool domain provision failed; see $dir/provision.log"
  /usr/bin/python3 "$here/samba-ad-seed.py" "$dir/etc/smb.conf" "$ldap_files/passwords" \
    > "$dir/seed.log" 2>&1 || die "adding the demo people failed; see $dir/seed.log"
  echo "$address" > "$dir/address"
}

start() {   # $1 = DIR, $2 = tls dir
  local dir=$1 tls=$2 address
  command -v samba >/dev/null && command -v samba-tool >/dev/null ||
    die "missing samba/samba-tool: apt-get install samba samba-ad-dc samba-ad-provision"
  if pid_alive "$dir/samba.pid"; then log "samba already running (pid $(cat "$dir/samba.pid"))"; return; fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ ! -f "$dir/address" ]; then
    address=$(pick_address "$dir")
    log "provisioning the domain $REALM for $address"
    provision "$dir" "$tls" "$address"
  fi
  address=$(cat "$dir/address")
  mkdir -p "$dir/run"
  log "starting samba (AD LDAP) on ldap://$address ldaps://$address"
  # One process (-M single) in the foreground of its own session; its pid is the one to stop.
  setsid samba --foreground --no-process-group -M single -s "$dir/etc/smb.conf" \
    </dev/null >>"$dir/samba.out" 2>&1 &
  echo $! > "$dir/samba.pid"
  LDAPTLS_CACERT=$tls/ca.crt wait_for 300 ldapsearch -x -H "ldaps://$address" -b '' -s base -LLL \
    defaultNamingContext || die "samba did not answer on ldaps://$address; see $dir/samba.log"
  printf '%s' "$SERVICE_PW" > "$dir/service-password"
  printf '%s' "$ADMINPW" > "$dir/admin-password"
  chmod 600 "$dir/service-password" "$dir/admin-password"
}

case "${1:-}" in
  start) [ $# -eq 3 ] || die "usage: $0 start DIR TLS"; start "$2" "$3" ;;
  *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
