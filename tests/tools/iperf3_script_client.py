#!/usr/bin/env python3
"""A scripted iperf3 3.12 client for tests of tuntcp's iperf3 server at the end of a test.

It speaks the client side of the iperf3 control protocol (iperf_client_api.c, iperf_api.c) as a
stock client does, but puts the events where a test wants them:

  --reverse-cookies   opens every data stream first (connect() returns before the next one
                      starts, as in iperf3), then sends their cookies last one first: the
                      server sees the cookies in the opposite of the order the streams opened.
  --hold-tail         the last piece of the first stream is written while the kernel drops
                      what leaves on that stream (an iptables rule in this namespace), and
                      TEST_END and the client's results follow at once: at TEST_END the stream
                      holds unacknowledged data, and when the rule goes the kernel retransmits.

Each stream the server receives on carries a different number of bytes, so the server's result
for a stream id matches only if it numbered the streams as the client did. With --bidir the
client reads the streams the server sends on; a stream the server wrongly sends on is seen.

Exit 0 when the server's results came (within --results-timeout) and agree; else 1 with why.
"""
import argparse
import json
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

TEST_START, TEST_RUNNING, TEST_END = 1, 2, 4
PARAM_EXCHANGE, CREATE_STREAMS = 9, 10
EXCHANGE_RESULTS, DISPLAY_RESULTS, IPERF_DONE = 13, 14, 16


def fail(why):
    print(f"iperf3_script_client: FAIL: {why}", file=sys.stderr)
    sys.exit(1)


def recv_exact(s, n, deadline):
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(n - len(data))
        except socket.timeout:
            return None
        if not chunk:
            return None
        data += chunk
    return data


def expect_msg(ctrl, want, what, timeout=10):
    b = recv_exact(ctrl, 1, time.monotonic() + timeout)
    if b is None:
        fail(f"no {what} ({want}) from the server within {timeout} s")
    got = struct.unpack("b", b)[0]
    if got != want:
        fail(f"expected {what} ({want}), the server sent {got}")


def send_json(ctrl, obj):
    body = json.dumps(obj).encode()
    ctrl.sendall(struct.pack(">I", len(body)) + body)


def iptables(args):
    subprocess.run(["iptables", "-w"] + args, check=True)


class Reader(threading.Thread):
    """Counts what the server sends on one stream until the connection ends."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.bytes, self.stop = sock, 0, False

    def run(self):
        while not self.stop:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            try:
                chunk = self.sock.recv(1 << 20, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return
            if not chunk:
                return
            self.bytes += len(chunk)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", default="198.18.0.2")
    ap.add_argument("--port", type=int, default=5201)
    ap.add_argument("-P", "--parallel", type=int, default=4)
    ap.add_argument("--bidir", action="store_true")
    ap.add_argument("--reverse-cookies", action="store_true")
    ap.add_argument("--hold-tail", action="store_true")
    ap.add_argument("--seconds", type=float, default=1.0, help="how long the streams send")
    ap.add_argument("--results-timeout", type=float, default=20.0)
    a = ap.parse_args()

    cookie = (str(uuid.uuid4()).replace("-", "")[:36].ljust(36, "x")).encode() + b"\0"
    ctrl = socket.create_connection((a.server, a.port), timeout=10)
    ctrl.sendall(cookie)
    expect_msg(ctrl, PARAM_EXCHANGE, "PARAM_EXCHANGE")
    # As iperf3's send_parameters(): a flag is there when set (the server tests presence).
    params = {"tcp": True, "omit": 0, "time": int(a.seconds) or 1, "num": 0, "blockcount": 0,
              "parallel": a.parallel, "len": 131072, "pacing_timer": 1000,
              "client_version": "3.12"}
    if a.bidir:
        params["bidirectional"] = True
    send_json(ctrl, params)
    expect_msg(ctrl, CREATE_STREAMS, "CREATE_STREAMS")

    # The client's sending streams first, then (--bidir) its receiving ones: iperf3's order,
    # and its ids 1, 3, 4, 5...
    n = a.parallel * (2 if a.bidir else 1)
    streams = [socket.create_connection((a.server, a.port), timeout=10) for _ in range(n)]
    ids = [1 if i == 0 else i + 2 for i in range(n)]
    sends = [i < a.parallel for i in range(n)]
    order = list(reversed(range(n))) if a.reverse_cookies else list(range(n))
    for i in order:
        streams[i].sendall(cookie)
        time.sleep(0.02)  # each cookie its own batch: the server takes them in this order
    expect_msg(ctrl, TEST_START, "TEST_START")
    expect_msg(ctrl, TEST_RUNNING, "TEST_RUNNING")

    readers = [Reader(s) for s in streams]
    for r in readers:
        r.start()
    # Stream k sends k + 1 chunks of 64 KiB per round: every stream a different total.
    sent = [0] * n
    chunk = b"\x5a" * 65536
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        for i in range(n):
            if sends[i]:
                for _ in range(i + 1):
                    streams[i].sendall(chunk)
                    sent[i] += len(chunk)
    held_rule = None
    if a.hold_tail:
        port = streams[0].getsockname()[1]
        held_rule = ["OUTPUT", "-p", "tcp", "-d", a.server, "--sport", str(port), "-j", "DROP"]
        iptables(["-I"] + held_rule)
        tail = b"\x33" * (32 * 1024)
        streams[0].settimeout(10)
        streams[0].sendall(tail)  # into the socket buffer: not acknowledged, not even out
        sent[0] += len(tail)
    ctrl.sendall(struct.pack("b", TEST_END))
    expect_msg(ctrl, EXCHANGE_RESULTS, "EXCHANGE_RESULTS")
    time.sleep(0.2)  # let what the server sends arrive before counting it
    results = {"cpu_util_total": 1, "cpu_util_user": 1, "cpu_util_system": 0,
               "sender_has_retransmits": 1, "congestion_used": "cubic",
               "streams": [{"id": ids[i], "bytes": sent[i] if sends[i] else readers[i].bytes,
                            "retransmits": 0, "jitter": 0, "errors": 0, "packets": 0,
                            "start_time": 0, "end_time": a.seconds} for i in range(n)]}
    send_json(ctrl, results)
    if held_rule:
        time.sleep(0.3)  # the server has TEST_END and the results; the tail is still held
        iptables(["-D"] + held_rule)  # now the kernel retransmits it

    deadline = time.monotonic() + a.results_timeout
    hdr = recv_exact(ctrl, 4, deadline)
    if hdr is None:
        fail(f"the server's results did not come within {a.results_timeout} s (the hang)")
    body = recv_exact(ctrl, struct.unpack(">I", hdr)[0], deadline)
    if body is None:
        fail("the server's results were cut short")
    server = json.loads(body)
    expect_msg(ctrl, DISPLAY_RESULTS, "DISPLAY_RESULTS")
    ctrl.sendall(struct.pack("b", IPERF_DONE))
    for r in readers:
        r.stop = True
    for s in streams:
        s.close()
    ctrl.close()

    by_id = {s["id"]: s for s in server.get("streams", [])}
    if sorted(by_id) != sorted(ids):
        fail(f"the server reported stream ids {sorted(by_id)}, the client has {sorted(ids)}")
    for i in range(n):
        srv = by_id[ids[i]]
        if sends[i]:
            if srv["bytes"] != sent[i]:
                fail(f"stream {ids[i]}: the client sent {sent[i]} bytes, "
                     f"the server reports {srv['bytes']}")
            if readers[i].bytes:
                fail(f"stream {ids[i]}: the server sent {readers[i].bytes} bytes on a stream "
                     "it should receive on")
            if srv.get("retransmits", -1) != -1:
                fail(f"stream {ids[i]}: the server reports itself the sender")
        else:
            if readers[i].bytes == 0 or srv["bytes"] == 0:
                fail(f"stream {ids[i]}: the server should send on it; it sent "
                     f"{readers[i].bytes} bytes, reports {srv['bytes']}")
            if srv.get("retransmits", -1) < 0:
                fail(f"stream {ids[i]}: the server does not report itself the sender")
    print(f"iperf3_script_client: -P {a.parallel}{' --bidir' if a.bidir else ''}"
          f"{' reversed cookies' if a.reverse_cookies else ''}"
          f"{' held tail' if a.hold_tail else ''}: results agree "
          f"(sent {sum(sent[i] for i in range(n) if sends[i])} bytes, "
          f"received {sum(readers[i].bytes for i in range(n) if not sends[i])})")


if __name__ == "__main__":
    main()
