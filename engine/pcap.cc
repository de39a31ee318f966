#include "engine/pcap.h"

#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "io/setup_error.h"

namespace tuntcp::engine {
namespace {

constexpr uint32_t kLinkTypeRaw = 101;  // LINKTYPE_RAW: the packet begins with an IPv4/IPv6 header

struct FileHeader {
  uint32_t magic = 0xa1b2c3d4;  // microsecond timestamps
  uint16_t major = 2, minor = 4;
  int32_t thiszone = 0;
  uint32_t sigfigs = 0;
  uint32_t snaplen;
  uint32_t linktype = kLinkTypeRaw;
};

}  // namespace

PcapWriter::PcapWriter(const std::string& path, uint32_t snaplen, uint64_t max_bytes, uint32_t records)
    : file_(std::fopen(path.c_str(), "wb")), snaplen_(snaplen), max_bytes_(max_bytes),
      free_(records), full_(records) {
  if (!file_) throw io::SetupError(io::describe_errno("--pcap: cannot create " + path, errno));
  FileHeader h;
  h.snaplen = snaplen;
  std::fwrite(&h, sizeof h, 1, file_);
  file_bytes_ = sizeof h;
  arena_ = std::make_unique<uint8_t[]>(static_cast<size_t>(records) * snaplen);
  records_.resize(records);
  for (uint32_t i = 0; i < records; ++i) {
    records_[i].data = arena_.get() + static_cast<size_t>(i) * snaplen;
    free_.enqueue(&records_[i]);
  }
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "tt-pcap");
}

PcapWriter::~PcapWriter() {
  stop_.store(true, std::memory_order_release);
  thread_.join();
  std::fclose(file_);
}

void PcapWriter::capture(const uint8_t* datagram, uint32_t len) {
  Record* r;
  if (!free_.try_dequeue(r)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  r->sec = static_cast<uint32_t>(ts.tv_sec);
  r->usec = static_cast<uint32_t>(ts.tv_nsec / 1000);
  r->len = len;
  r->caplen = std::min(len, snaplen_);
  std::memcpy(r->data, datagram, r->caplen);
  full_.enqueue(r);
}

void PcapWriter::run() {
  Record* batch[256];
  while (true) {
    const size_t n = full_.try_dequeue_bulk(batch, 256);
    // The queue keeps order per producer thread only: sort what we took by time, so a reply
    // written by a worker does not precede the request its reader captured.
    std::sort(batch, batch + n, [](const Record* a, const Record* b) {
      return a->sec != b->sec ? a->sec < b->sec : a->usec < b->usec;
    });
    for (size_t i = 0; i < n; ++i) {
      Record* r = batch[i];
      const uint64_t size = 16 + r->caplen;
      if (file_bytes_ + size <= max_bytes_) {
        const uint32_t hdr[4] = {r->sec, r->usec, r->caplen, r->len};
        std::fwrite(hdr, sizeof hdr, 1, file_);
        std::fwrite(r->data, 1, r->caplen, file_);
        file_bytes_ += size;
        written_.fetch_add(1, std::memory_order_relaxed);
      } else {
        dropped_.fetch_add(1, std::memory_order_relaxed);
      }
      free_.enqueue(r);
    }
    if (n == 0) {
      if (stop_.load(std::memory_order_acquire) && full_.size_approx() == 0) break;
      std::fflush(file_);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } else if (n < 256) {
      // Let records from the other threads of this instant arrive before the next sort.
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }
  std::fflush(file_);
}

}  // namespace tuntcp::engine
