// Replies that need no connection object: segments to a port nobody listens on, and the
// non-SYN segments a listener receives. The engine answers these statelessly.
#pragma once

#include <cstddef>
#include <optional>

#include "proto/tcp/wire.h"

namespace tuntcp::proto::tcp {

// RFC 9293 3.10.7.1 (CLOSED): an incoming RST is discarded; otherwise answer with
//   <SEQ=SEG.ACK><CTL=RST> if the ACK bit is on, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
// Ports are swapped; the reply has no options and a zero window.
std::optional<TcpRepr> reset_for_closed(const TcpRepr& in, size_t payload_len);

// RFC 9293 3.10.7.2 (LISTEN) for everything except a SYN: RST is ignored, an ACK gets
// <SEQ=SEG.ACK><CTL=RST>, anything else is dropped. A bare SYN returns nullopt as well: the
// caller creates a connection for it (Connection::accept_syn).
std::optional<TcpRepr> reset_for_listen(const TcpRepr& in);

}  // namespace tuntcp::proto::tcp
