#!/usr/bin/env python3
"""Opens N TLS connections that complete the handshake and then send nothing, spread over many
loopback source addresses (127.0.A.B) so a per-address connection limit does not refuse them.

    idle_client.py PORT HOST N PER_ADDRESS READY_FILE

Prints `opened=N failed=N` once every connection is tried, writes READY_FILE, then holds the
connections until stdin closes (or SIGTERM) and prints `still_open=N` (those the server has not
closed meanwhile)."""
import asyncio
import ssl
import sys


async def main():
    port, host, total, per_address, ready = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                             int(sys.argv[4]), sys.argv[5])
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    open_conns = []
    failed = 0
    gate = asyncio.Semaphore(200)

    async def one(i):
        nonlocal failed
        a = i // per_address
        source = f"127.0.{1 + a // 250}.{1 + a % 250}"
        async with gate:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=host,
                                            local_addr=(source, 0)), 30)
                open_conns.append((reader, writer))
            except Exception:
                failed += 1

    await asyncio.gather(*(one(i) for i in range(total)))
    print(f"opened={len(open_conns)} failed={failed}", flush=True)
    with open(ready, "w") as f:
        f.write("ready\n")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), stop.set)
    await stop.wait()
    still = 0
    for reader, _ in open_conns:
        # A closed connection reads EOF at once; an open, silent one times out.
        try:
            data = await asyncio.wait_for(reader.read(1), 0.001)
            if data:
                still += 1
        except asyncio.TimeoutError:
            still += 1
        except Exception:
            pass
    print(f"still_open={still}", flush=True)


asyncio.run(main())
