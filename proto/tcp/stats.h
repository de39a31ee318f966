// The counters every TCP connection keeps: the one list of them. tcp::Stats is generated from
// it, and so are the engine's per-worker sums (engine/stats.h names each one tcp_<name>), which
// reach the summary at exit, --stats-json and the SIGUSR1 dump: a counter added here is in all
// of them.
#pragma once

#include <cstdint>

// X(prefix##name): `prefix` is empty for tcp::Stats, tcp_ in the engine.
#define TUNTCP_TCP_CONN_COUNTERS(X, prefix)                                                   \
  X(prefix##segs_in)             /* segments a connection processed */                       \
  X(prefix##segs_out)            /* segments connections sent */                              \
  X(prefix##bytes_in)            /* payload bytes delivered in order */                       \
  X(prefix##bytes_out)           /* payload bytes sent, retransmissions included */           \
  X(prefix##retransmits)                                                                      \
  X(prefix##fast_retransmits)                                                                 \
  X(prefix##timeouts)            /* retransmission timeouts */                                \
  X(prefix##ooo_segments)        /* segments that arrived out of order */                     \
  X(prefix##dup_segments)        /* segments that carried only data already received */       \
  X(prefix##buffer_grows)        /* auto-tuning enlarged the receive or send buffer */        \
  X(prefix##challenge_acks)      /* RFC 5961 challenge ACKs */                                \
  X(prefix##paws_drops)          /* segments dropped by PAWS (RFC 7323 5) */                  \
  X(prefix##rst_sent)            /* RSTs sent (the engine adds those to closed ports) */      \
  X(prefix##sack_recoveries)     /* fast recoveries driven by SACK (RFC 6675) */             \
  X(prefix##tlp_probes)          /* tail loss probes sent (RFC 8985 7) */                     \
  X(prefix##tlp_recoveries)      /* losses repaired by a probe (RFC 8985 7.4.2) */            \
  X(prefix##rack_lost)           /* segments RACK marked lost (RFC 8985 6.2) */               \
  X(prefix##dsacks_sent)         /* D-SACK blocks sent (RFC 2883) */                          \
  X(prefix##dsacks_received)     /* D-SACK blocks received */                                 \
  X(prefix##spurious_retransmits) /* retransmissions a D-SACK showed arrived twice */         \
  X(prefix##undos)               /* window reductions undone as spurious (Linux undo) */

namespace tuntcp::proto::tcp {

struct Stats {
#define TUNTCP_X(n) uint64_t n = 0;
  TUNTCP_TCP_CONN_COUNTERS(TUNTCP_X, )
#undef TUNTCP_X
};

}  // namespace tuntcp::proto::tcp
