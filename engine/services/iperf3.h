// The iperf3 server (port 5201): stock iperf3 clients (3.x; protocol as in 3.12) run TCP tests
// against tuntcp: -t, -P, -R, --bidir, -l, -O, -n/-k, -J, --get-server-output. UDP and SCTP
// tests are refused with "not implemented". One test at a time, like iperf3: a second client
// gets "the server is busy".
//
//   iperf3_protocol   the control protocol, sans-IO (unit-tested with byte strings)
//   iperf3_registry   the test shared by all workers, found by its cookie
//   iperf3_control    the control connection of a test
//   iperf3_stream     one data stream
//   iperf3.cc         the App of every connection to the port: reads the cookie, then acts
//                     as control connection, data stream or refusal
#pragma once

#include "engine/app.h"

namespace tuntcp::engine::services {

AppFactory iperf3_server();

}  // namespace tuntcp::engine::services
