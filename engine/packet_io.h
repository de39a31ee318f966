// A worker's packet I/O: buffers for what it sends, writes through its own io_uring on its own
// TUN queue, and reference-counted release of every buffer it touches (received datagrams go
// back to the reader that owns them, in bulk, once per batch).
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <span>
#include <memory>
#include <vector>

#include "engine/impair.h"
#include "engine/pcap.h"
#include "engine/stats.h"
#include "io/buffer_pool.h"
#include "io/uring.h"
#include "io/vnet.h"

namespace tuntcp::engine {

class PacketIo {
 public:
  // `vnet_hdr_len` is 12 with --offload (every packet starts with an io::VnetHdr), else 0.
  PacketIo(uint32_t worker, int tun_fd, io::BufferPool& pool, uint32_t partition,
           uint32_t max_writes, uint32_t vnet_hdr_len, WorkerStats& stats);
  ~PacketIo();

  // Called by the worker's run() once its ring exists, and with nullptr when it goes away.
  void attach(io::Ring* ring) { ring_ = ring; }
  void set_pcap(PcapWriter* pcap) { pcap_ = pcap; }
  // --impair-out: impair every datagram this worker writes, as a link would (before run()).
  void set_impairment(const ImpairSpec& spec, uint64_t seed, uint64_t start_us);
  // When the next write held back by --impair-out is due (kNoRelease: none); flush() writes it.
  uint64_t next_release_us() const { return impair_ ? impair_->next_release_us() : kNoRelease; }
  // Shutdown: writes every held datagram now, whatever its release time.
  void flush_held();

  io::BufferPool& pool() { return pool_; }
  // The IP datagram in a buffer (after the vnet header, if any), and the room for one.
  uint8_t* ip(io::BufId id) const { return pool_.data(id) + hdr_len_; }
  uint32_t ip_capacity() const { return pool_.slot_size() - hdr_len_; }
  uint32_t vnet_hdr_len() const { return hdr_len_; }
  // The vnet header the kernel put in front of a received datagram (zeros without offload).
  io::VnetHdr vnet(io::BufId id) const { return hdr_len_ ? io::read_vnet(pool_.data(id)) : io::VnetHdr{}; }

  // A buffer to build an outgoing datagram in (one reference), or kNoBuf (counted) when the
  // worker's partition is empty.
  io::BufId alloc_tx();
  // Queues a write of the datagram of `ip_len` bytes at ip(id), preceded by `v` when offloads are
  // on; the buffer is released when the write completes.
  void transmit(io::BufId id, uint32_t ip_len, const io::VnetHdr& v = {});
  // Whether transmit_zero_copy() may be used: offloads on, and no --sqpoll (its submissions are
  // asynchronous), --pcap or --impair-out (both need the datagram in one buffer).
  void enable_zero_copy(bool on);
  bool zero_copy() const { return zero_copy_ && !pcap_ && !impair_; }
  // Queues headers (`head_len` bytes of IP and TCP header at ip(id), after `v`) and a payload
  // that lives elsewhere (a, b: the connection's send ring) as one WRITEV. The kernel copies
  // the payload when the write is submitted (with the batch, at flush()); until then the
  // payload must not be freed or moved: call quiesce_zero_copy() before a send ring is freed or
  // reallocated. (Bytes the peer acknowledged meanwhile may be overwritten: the peer drops
  // them as old.)
  void transmit_zero_copy(io::BufId id, uint32_t head_len, std::span<const uint8_t> a,
                          std::span<const uint8_t> b, const io::VnetHdr& v);
  // Submits queued zero-copy writes and waits until the kernel has taken them.
  void quiesce_zero_copy() {
    if (zc_in_flight_ > 0) [[unlikely]] wait_zero_copy();
  }
  // A datagram arrived from a reader: the worker holds its one reference.
  void adopt(io::BufId id) { pool_.refs(id) = 1; }
  void release(io::BufId id);

  // Submits queued writes and reaps completed ones; hands released foreign buffers back.
  void flush();
  // Reaps completions (the worker's loop calls this after waiting on the ring).
  void reap();
  // True once after the worker's eventfd read completed (it must be armed again).
  bool take_event() {
    const bool e = event_completed_;
    event_completed_ = false;
    return e;
  }
  uint32_t writes_in_flight() const { return writes_in_flight_; }
  // Shutdown: waits for every write, retried ones included (gives a refused one up after
  // `max_rounds` rounds of waiting, counted as tx_error).
  void drain(uint32_t max_rounds);
  uint32_t buffers_in_use() const;

 private:
  class TxPort;  // the ImpairPort through which --impair-out writes, copies and drops
  // Writes `ip_len` bytes (plus the vnet header already in the buffer) to the TUN.
  void write(io::BufId id, uint32_t ip_len);
  // Waits for some writes to finish when the completion queue could overflow.
  void make_room();
  // Queues the write SQE of `len` bytes (vnet header included) of buffer `id`.
  void submit_write(io::BufId id, uint32_t len);
  // Writes the kernel refused for now (EAGAIN: the TUN socket's send buffer is full) go again
  // on the next flush, in order: back-pressure, not loss.
  void resubmit_refused();
  // transmit() under --impair-out; out of line so that the plain path stays a test and a jump.
  [[gnu::noinline, gnu::cold]] void transmit_impaired(io::BufId id, uint32_t ip_len);

  uint32_t worker_;
  int fd_;
  io::BufferPool& pool_;
  uint32_t partition_;
  io::Partition& own_;
  io::ReturnBatch returns_;
  uint32_t max_writes_;
  uint32_t hdr_len_;
  WorkerStats& stats_;
  io::Ring* ring_ = nullptr;
  uint32_t writes_in_flight_ = 0;
  struct Refused {
    io::BufId id;
    uint32_t len;
  };
  std::vector<Refused> refused_;  // capacity max_writes_: never allocates per packet
  bool zero_copy_ = false;
  // The iovecs of each zero-copy write, by buffer (index in this worker's partition): they
  // must stay put until the write is issued.
  std::vector<std::array<iovec, 3>> zc_iov_;
  uint32_t zc_in_flight_ = 0;  // zero-copy writes not completed yet
  void wait_zero_copy();
  bool event_completed_ = false;
  PcapWriter* pcap_ = nullptr;
  std::unique_ptr<ImpairedPath> impair_;  // null without --impair-out
  std::unique_ptr<TxPort> port_;
};

}  // namespace tuntcp::engine
