// The iperf 2 server (port 5001) for stock `iperf -c` clients (2.0.x, 2.1.x), TCP: the
// default test and -P (the server reads and drops everything), -R and --full-duplex (it also
// sends, on the same connection), -d and -r (it connects back to the client's listening port
// and sends). Each connection is a test of its own; nothing is shared between workers.
#pragma once

#include "engine/app.h"

namespace tuntcp::engine::services {

AppFactory iperf2_server();

}  // namespace tuntcp::engine::services
