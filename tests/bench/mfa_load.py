#!/usr/bin/env python3
"""Logs people in against Pforte's login host for tests/bench/mfa.sh, over kept-alive TLS
connections, and plays their authenticator apps (RFC 6238, HMAC-SHA-1, 30 s, 6 digits).

  mfa_load.py PORT HOST SECRETS FIRST COUNT KIND [CONNECTIONS]

KIND is `password` (POST /login) or `totp` (POST /login, then POST /mfa with the code). Logs in
people FIRST .. FIRST+COUNT-1 of SECRETS (`username base32-key` per line), each once: a TOTP
code is accepted once per person and step (the replay guard). Exits non-zero if any login did
not end as it should (303 with a session, and 303 out of /mfa).
"""
import base64, hashlib, hmac, http.client, os, socket, ssl, struct, sys, threading, time

port, host, secrets_file, first, count, kind = sys.argv[1:7]
port, first, count = int(port), int(first), int(count)
connections = int(sys.argv[7]) if len(sys.argv) > 7 else 4
people = [line.split() for line in open(secrets_file)][first:first + count]
if len(people) < count:
    sys.exit(f"only {len(people)} people in {secrets_file} from {first}")
token = os.urandom(32).hex()
origin = f"https://{host}:{port}"
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE


class Connection(http.client.HTTPSConnection):
    """TLS to 127.0.0.1 with the login host's name in SNI and Host."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = context.wrap_socket(sock, server_hostname=host)


def totp(secret, now):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(now) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def post(conn, path, body, cookies):
    conn.request("POST", path, body=body, headers={
        "Host": f"{host}:{port}", "Origin": origin,
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
    })
    response = conn.getresponse()
    response.read()
    return response


failures = []


def work(batch):
    conn = Connection(host, port)
    for username, secret in batch:
        cookies = {"__Host-pforte-csrf": token}
        r = post(conn, "/login", f"username={username}&password=benchpw&csrf={token}", cookies)
        session = next((c.split(";")[0].split("=", 1)[1] for c in r.headers.get_all("set-cookie") or []
                        if c.startswith("__Host-pforte=")), None)
        if r.status != 303 or not session:
            failures.append(f"{username}: login answered {r.status}")
            continue
        if kind == "totp":
            cookies["__Host-pforte"] = session
            r = post(conn, "/mfa", f"code={totp(secret, time.time())}&csrf={token}", cookies)
            if r.status != 303 or "/mfa" in (r.headers.get("location") or ""):
                failures.append(f"{username}: /mfa answered {r.status} {r.headers.get('location')}")
    conn.close()


threads = [threading.Thread(target=work, args=(people[i::connections],)) for i in range(connections)]
started = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - started
print(f"logins={count - len(failures)} failures={len(failures)} seconds={elapsed:.2f}")
for f in failures[:5]:
    print(f, file=sys.stderr)
sys.exit(1 if failures else 0)
