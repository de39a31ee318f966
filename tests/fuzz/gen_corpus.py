#!/usr/bin/env python3
"""Writes the seed corpus in corpus/<harness>/: a few small, meaningful inputs per harness.
Run from anywhere; it rewrites the files it owns (deterministic output, so diffs stay quiet).
The script format of fuzz_tcp_connection is described at the top of fuzz_tcp_connection.cc."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL, REMOTE = 0xC6120002, 0xC6120001  # 198.18.0.2 (tuntcp), 198.18.0.1 (the kernel)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(payload, proto, src=REMOTE, dst=LOCAL, options=b"", frag=0x4000, ttl=64):
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBHII", 0x40 | ihl, 0, ihl * 4 + len(payload), 0x1234, frag, ttl, proto, 0,
                    src, dst) + options
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def icmp(typ, code, rest):
    m = struct.pack("!BBH", typ, code, 0) + rest
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def echo(ident, seq, data):
    return icmp(8, 0, struct.pack("!HH", ident, seq) + data)


def tcp_opts(mss=None, sackp=False, ts=None, ws=None, sacks=(), raw=b""):
    o = b""
    if mss is not None:
        o += struct.pack("!BBH", 2, 4, mss)
    if sackp:
        o += b"\x04\x02"
    if ts is not None:
        o += b"\x01\x01" if not sackp else b""
        o += struct.pack("!BBII", 8, 10, *ts)
    if ws is not None:
        o += b"\x01\x03\x03" + bytes([ws])
    if sacks:
        o += b"\x01\x01" + bytes([5, 2 + 8 * len(sacks)]) + b"".join(struct.pack("!II", *s) for s in sacks)
    o += raw
    o += b"\0" * (-len(o) % 4)
    return o


def tcp(flags, seq, ack, win=65535, opts=b"", data=b"", sport=49152, dport=80, src=REMOTE, dst=LOCAL):
    hl = 20 + len(opts)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hl // 4) << 4, flags, win, 0, 0) + opts
    seg = h + data
    pseudo = struct.pack("!IIBBH", src, dst, 0, 6, len(seg))
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


# --- fuzz_tcp_connection scripts ------------------------------------------------------------

class Script:
    def __init__(self, active, ws=False, ts=False, sack=False, nodelay=False, keepalive=False, rbuf=0,
                 sbuf=0, mss=0, ooo=0, coalesce=False, newreno=False, hystart=True, rack=True,
                 tlp=True, dsack=True, tso=0, cookie=False, iss=5000, peer_iss=1000):
        setup = active | ws << 1 | ts << 2 | sack << 3 | nodelay << 4 | keepalive << 5 | rbuf << 6
        setup2 = sbuf | mss << 2 | ooo << 4 | coalesce << 6
        setup3 = (newreno | (not hystart) << 1 | (not rack) << 2 | (not tlp) << 3 | (not dsack) << 4
                  | tso << 5 | cookie << 7)
        self.b = bytes([setup, setup2, setup3]) + struct.pack("<II", iss, peer_iss)

    @staticmethod
    def opts(mss=None, ws=None, sackp=False, ts=None, echo_ts=True, ecr=0, sacks=(), hold=False):
        """ts: the peer clock's step (i8); echo_ts: TSecr = our last TSval (else `ecr`)."""
        mask = (mss is not None) | (ws is not None) << 1 | sackp << 2 | (ts is not None) << 3
        mask |= echo_ts << 4 | len(sacks) << 5 | hold << 7
        b = bytes([mask])
        if mss is not None:
            b += struct.pack("<H", mss)
        if ws is not None:
            b += bytes([ws])
        if ts is not None:
            b += struct.pack("<b", ts) + (b"" if echo_ts else struct.pack("<I", ecr))
        for left, length in sacks:  # left: offset from SND.UNA (negative: a D-SACK)
            b += struct.pack("<hH", left, length)
        return b

    def syn(self, win=65535, plen=0, **opts):  # the passive open's SYN
        self.b += struct.pack("<H", win) + self.opts(**opts) + struct.pack("<H", plen)
        return self

    def cookie_ack(self, mss_index=3, flags=ACK, win=65535, plen=0, **opts):  # a cookie's ACK
        self.b += bytes([mss_index, flags]) + struct.pack("<H", win) + self.opts(**opts)
        self.b += struct.pack("<H", plen)
        return self

    def flush(self): self.b += bytes([16]); return self

    def seg(self, flags, seq_off=0, ack_base=1, ack_off=0, win=65535, plen=0, seq_base=0, **opts):
        """seq = RCV.NXT (seq_base 0) or the peer's ISN (1) + seq_off; ack = SND.UNA (0),
        SND.NXT (1) or SND.MAX (2) + ack_off."""
        self.b += bytes([0, flags, seq_base]) + struct.pack("<h", seq_off)
        self.b += bytes([ack_base]) + struct.pack("<h", ack_off) + struct.pack("<H", win)
        self.b += self.opts(**opts) + struct.pack("<H", plen if plen < 0x800 else 0x8000 | plen)
        return self

    def reply(self, fin=False, psh=False, zero_win=False, hold=False, data8=0):
        b = fin | psh << 3 | zero_win << 6 | hold << 7 | (data8 > 0) << 5
        self.b += bytes([15, b]) + (bytes([data8]) if data8 else b"")
        return self

    def advance(self, us, timers=True):
        scale = 0
        while us >> scale > 0xFFFF:
            scale += 1
        self.b += bytes([6 if timers else 8, scale]) + struct.pack("<H", us >> scale)
        return self

    def send(self, n): self.b += bytes([9]) + struct.pack("<H", n); return self
    def read(self, n): self.b += bytes([11]) + struct.pack("<H", n); return self
    def consume(self, n): self.b += bytes([12]) + struct.pack("<H", n); return self
    def close(self): self.b += bytes([13, 0]); return self
    def shutdown(self): self.b += bytes([13, 1]); return self
    def abort(self): self.b += bytes([13, 2]); return self

    def policy(self, consume=0, on_data=0, refill=False, on_peer_closed=0, on_established=0,
               poke_when_closed=False):
        self.b += bytes([14, consume | on_data << 2 | refill << 5 | on_peer_closed << 6,
                         on_established | poke_when_closed << 2])
        return self


def connection_scripts():
    s = {}
    # Passive open, 1000 bytes in, the application echoes them, both sides close.
    s["passive_echo_close"] = (Script(0).syn(mss=1460).seg(ACK).policy(on_data=1)
                               .seg(ACK | PSH, plen=1000).advance(50_000).reply()
                               .reply(fin=True).close().reply().advance(1_000_000).b)
    # Active open with every option, send 30 KB, acks, close; TIME-WAIT runs out.
    s["active_all_options"] = (Script(1, ws=True, ts=True, sack=True)
                               .seg(SYN | ACK, seq_base=1, mss=1460, ws=7, sackp=True, ts=1)
                               .send(30000).reply().reply().reply().close().reply()
                               .reply(fin=True).advance(61_000_000).b)
    # Out-of-order segments held in their buffers, SACK blocks, then the hole is filled.
    s["ooo_sack_fill"] = (Script(0, ts=True, sack=True).syn(mss=1460, sackp=True, ts=1)
                          .seg(ACK, ts=1)
                          .seg(ACK, seq_off=1000, plen=500, ts=1, hold=True)
                          .seg(ACK, seq_off=2000, plen=500, ts=1, hold=True)
                          .seg(ACK, seq_off=3000, plen=500, ts=1, hold=True)
                          .seg(ACK, seq_off=0, plen=1000, ts=1)
                          .seg(ACK, seq_off=0, plen=1000, ts=1, hold=True)
                          .advance(100_000).b)
    # Data never acked: RTO backoff until the connection gives up.
    s["rto_give_up"] = (Script(1).seg(SYN | ACK, seq_base=1, mss=536).send(5000)
                        .advance(1 << 40).b)
    # Three duplicate ACKs: fast retransmit and recovery, then a full ACK.
    s["fast_retransmit"] = (Script(0).syn(mss=1000).seg(ACK).send(20000)
                            .seg(ACK, ack_base=0).seg(ACK, ack_base=0).seg(ACK, ack_base=0)
                            .seg(ACK, ack_base=0).seg(ACK, ack_base=0, ack_off=2000).reply()
                            .advance(2_000_000).b)
    # Zero window: persist probes; then the window opens.
    s["zero_window_persist"] = (Script(0).syn(mss=1460).seg(ACK, win=0).send(3000)
                                .advance(10_000_000).seg(ACK, win=65535).advance(1_000_000).b)
    # The application reads slowly from a small buffer: window updates.
    s["small_buffer_slow_reader"] = (Script(0, rbuf=2).syn(mss=536).seg(ACK).policy(consume=1)
                                     .seg(ACK, plen=1000).seg(ACK, plen=1000).seg(ACK, plen=2000)
                                     .read(500).consume(3000).advance(100_000).b)
    # Keepalive on an idle connection that never answers.
    s["keepalive"] = (Script(0, keepalive=True).syn().seg(ACK).advance(8_000_000_000).b)
    # Peer RST in window, challenge ACK for one out of window.
    s["rst_challenge"] = (Script(0).syn().seg(ACK).seg(RST, seq_off=100).seg(RST).b)
    # Simultaneous open, then a retransmitted SYN.
    s["simultaneous_open"] = (Script(1).seg(SYN, seq_base=1, mss=1460).seg(SYN, seq_base=1, seq_off=0)
                              .seg(ACK, seq_off=0).b)
    # TIME-WAIT with a new SYN (reopen).
    s["time_wait_reopen"] = (Script(0).syn().seg(ACK).close().reply().reply(fin=True)
                             .seg(SYN, seq_off=20000, ack_base=0).b)
    # SACK recovery (RFC 6675 + PRR): holes at the front, SACK blocks above them, then all acked.
    s["sack_recovery"] = (Script(1, ts=True, sack=True)
                          .seg(SYN | ACK, seq_base=1, mss=1460, sackp=True, ts=1)
                          .send(20000)
                          .seg(ACK, ack_base=0, ts=1, sacks=((1448, 1448),))
                          .seg(ACK, ack_base=0, ts=1, sacks=((1448, 2896), (5792, 1448)))
                          .seg(ACK, ack_base=0, ts=1, sacks=((1448, 5792),))
                          .advance(300_000).reply().advance(1_000_000).b)
    # TSO super-segments, part of one SACKed (split at MSS multiples), then an RTO.
    s["tso_sack_split"] = (Script(1, sack=True, tso=1, sbuf=1)
                           .seg(SYN | ACK, seq_base=1, mss=1460, sackp=True)
                           .send(60000).seg(ACK, ack_base=0, sacks=((2000, 3000),))
                           .advance(3_000_000).reply().b)
    # D-SACK both ways: the peer's data arrives twice; the peer reports our data twice.
    s["dsack"] = (Script(0, sack=True).syn(mss=1460, sackp=True).seg(ACK)
                  .seg(ACK, plen=1000).seg(ACK, seq_off=-1000, plen=1000)
                  .send(3000).advance(400_000)
                  .seg(ACK, ack_base=1, sacks=((-1460, 1460),)).b)
    # Tail loss probe (RFC 8985): a short flight, no ACK, the probe goes, then the ACK.
    s["tlp"] = (Script(0, sack=True, ts=True).syn(mss=1460, sackp=True, ts=1).seg(ACK, ts=1)
                .send(4000).seg(ACK, ack_base=0, ack_off=1460, ts=1).advance(250_000)
                .reply().b)
    # close(), our FIN acked, the peer never closes: the FIN-WAIT-2 timeout.
    s["fin_wait2_timeout"] = (Script(1).seg(SYN | ACK, seq_base=1).close().reply()
                              .advance(61_000_000).b)
    # close() with unread data: RST instead of FIN (Linux).
    s["close_unread_rst"] = (Script(0).syn().seg(ACK).policy(consume=1).seg(ACK | PSH, plen=300)
                             .close().b)
    # NewReno without SACK, CUBIC off: three duplicate ACKs, partial ACKs.
    s["newreno_partial_ack"] = (Script(0, newreno=True).syn(mss=1000).seg(ACK).send(15000)
                                .seg(ACK, ack_base=0).seg(ACK, ack_base=0).seg(ACK, ack_base=0)
                                .seg(ACK, ack_base=0, ack_off=2000).seg(ACK, ack_base=0, ack_off=3000)
                                .reply().b)
    # A SYN cookie's ACK carrying data (timestamps bring back wscale 7 and SACK-permitted),
    # with coalesced ACKs flushed at the end of each batch.
    s["cookie_data_coalesce"] = (Script(0, ws=True, ts=True, sack=True, coalesce=True, cookie=True)
                                 .cookie_ack(flags=ACK | PSH, plen=1000, ts=1, echo_ts=False, ecr=0x17)
                                 .seg(ACK, plen=1448, ts=1).seg(ACK, plen=1448, ts=1)
                                 .seg(ACK, plen=1448, ts=1).flush().send(3000).flush()
                                 .reply(fin=True).b)
    # The application sends from on_established (a client's request), the peer resets, and the
    # application pokes the closed connection from on_closed.
    s["established_send_reset"] = (Script(1).policy(on_established=1, poke_when_closed=True)
                                   .seg(SYN | ACK, seq_base=1, mss=1460).reply(data8=50)
                                   .seg(RST, ack_base=1).b)
    return s


def main():
    seeds = {
        "fuzz_ipv4": {
            "tcp_syn": ipv4(tcp(SYN, 1000, 0, opts=tcp_opts(mss=1460, sackp=True, ts=(1, 0), ws=7)), 6),
            "icmp_echo": ipv4(echo(0x1234, 1, bytes(range(56))), 1),
            "udp_with_ip_options": ipv4(struct.pack("!HHHH", 5000, 53, 12, 0) + b"abcd", 17,
                                        options=b"\x01\x01\x01\x00"),
            "fragment": ipv4(b"x" * 16, 17, frag=0x2000),
            "not_for_us": ipv4(b"", 6, dst=0xC6120009),
        },
        "fuzz_icmp": {
            "echo_56": ipv4(echo(0x1234, 1, bytes(range(56))), 1),
            "echo_odd_len": ipv4(echo(7, 9, b"hello"), 1),
            "echo_ip_options": ipv4(echo(1, 2, b"opts"), 1, options=b"\x01\x01\x01\x00" * 2),
            "echo_1472": ipv4(echo(3, 4, bytes(i & 0xFF for i in range(1472))), 1),
            "udp_port_unreachable_quote": ipv4(struct.pack("!HHHH", 5000, 9, 8, 0), 17),
            "dest_unreachable_in": ipv4(icmp(3, 3, b"\0\0\0\0" + ipv4(b"12345678", 17, src=LOCAL, dst=REMOTE)), 1),
        },
        "fuzz_tcp_wire": {
            "syn_all_options": tcp(SYN, 1000, 0, opts=tcp_opts(mss=1460, sackp=True, ts=(100, 0), ws=7)),
            "synack_linux": tcp(SYN | ACK, 5000, 1001, opts=tcp_opts(mss=1460, sackp=True, ts=(7, 100), ws=9)),
            "data_ts": tcp(ACK | PSH, 1001, 5001, opts=tcp_opts(ts=(101, 7)), data=b"GET / HTTP/1.1\r\n\r\n"),
            "ack_sack3_ts": tcp(ACK, 1001, 5001, opts=tcp_opts(ts=(102, 8), sacks=((6001, 7001), (8001, 9001), (10001, 11001)))),
            "ack_sack4": tcp(ACK, 1001, 5001, opts=tcp_opts(sacks=((6001, 7001), (8001, 9001), (10001, 11001), (12001, 13001)))),
            "unknown_and_eol": tcp(ACK, 1, 2, opts=tcp_opts(mss=536, raw=b"\x1e\x04ab\x00\x00")),
            "rst": tcp(RST, 7, 0),
            "fin_ack": tcp(FIN | ACK, 1, 2),
        },
        "fuzz_tcp_connection": connection_scripts(),
    }
    total = 0
    for harness, files in seeds.items():
        d = os.path.join(HERE, "corpus", harness)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            total += len(data)
    print(f"wrote {sum(len(f) for f in seeds.values())} seeds, {total} bytes")


if __name__ == "__main__":
    main()
