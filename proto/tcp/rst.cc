#include "proto/tcp/rst.h"

namespace tuntcp::proto::tcp {

namespace {
TcpRepr reply_base(const TcpRepr& in) {
  TcpRepr r;
  r.src_port = in.dst_port;
  r.dst_port = in.src_port;
  return r;
}
}  // namespace

std::optional<TcpRepr> reset_for_closed(const TcpRepr& in, size_t payload_len) {
  if (in.has(Flags::RST)) return std::nullopt;
  TcpRepr r = reply_base(in);
  if (in.has(Flags::ACK)) {
    r.seq = in.ack;
    r.flags = Flags::RST;
  } else {
    r.seq = Seq(0);
    r.ack = in.seq + in.seg_len(payload_len);
    r.flags = Flags::RST | Flags::ACK;
  }
  return r;
}

std::optional<TcpRepr> reset_for_listen(const TcpRepr& in) {
  if (in.has(Flags::RST)) return std::nullopt;
  if (in.has(Flags::ACK)) {
    TcpRepr r = reply_base(in);
    r.seq = in.ack;
    r.flags = Flags::RST;
    return r;
  }
  return std::nullopt;
}

}  // namespace tuntcp::proto::tcp
