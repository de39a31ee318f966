// tuntcp-loadgen: many short TCP echo exchanges against tuntcp, each checked byte for byte,
// for the integration tests. Runs inside the test's own network namespace.
//
//   tuntcp-loadgen sequential ADDR PORT COUNT BYTES   COUNT connections one after another
//   tuntcp-loadgen concurrent ADDR PORT COUNT BYTES   COUNT connections open at the same time
// Each connection sends BYTES random bytes, expects them echoed back, then closes. Prints
// "ok COUNT" and exits 0, or names the first failure and exits 1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "loadgen: %s\n", what.c_str());
  std::exit(1);
}

int connect_to(const sockaddr_in& to) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0)
    die(std::string("connect: ") + std::strerror(errno));
  return fd;
}

// Sends `msg` and reads the echo with poll() on one socket, 10 s at most.
void exchange(int fd, const std::vector<uint8_t>& msg, int index) {
  size_t sent = 0, got = 0;
  std::vector<uint8_t> back(msg.size());
  while (got < msg.size()) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < msg.size() ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 10000) <= 0) die("connection " + std::to_string(index) + ": timed out");
    if ((p.revents & POLLOUT) && sent < msg.size()) {
      ssize_t n = send(fd, msg.data() + sent, msg.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN) die("send: " + std::string(std::strerror(errno)));
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(fd, back.data() + got, back.size() - got, MSG_DONTWAIT);
      if (n == 0) die("connection " + std::to_string(index) + ": closed after " + std::to_string(got) + " bytes");
      if (n < 0 && errno != EAGAIN) die("recv: " + std::string(std::strerror(errno)));
      if (n > 0) got += static_cast<size_t>(n);
    }
  }
  if (back != msg) die("connection " + std::to_string(index) + ": echoed bytes differ");
}

// Half-closes, then expects the server's FIN (echo closes after the peer does).
void finish(int fd, int index) {
  shutdown(fd, SHUT_WR);
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 10000) <= 0) die("connection " + std::to_string(index) + ": no FIN from the server");
  char c;
  ssize_t n = recv(fd, &c, 1, 0);
  if (n != 0) die("connection " + std::to_string(index) + ": expected EOF");
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: tuntcp-loadgen sequential|concurrent ADDR PORT COUNT BYTES\n");
    return 2;
  }
  const std::string mode = argv[1];
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[3])));
  if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) die("bad address");
  const int count = std::atoi(argv[4]);
  const size_t bytes = static_cast<size_t>(std::atol(argv[5]));
  std::mt19937 rng(12345);
  auto message = [&] {
    std::vector<uint8_t> m(bytes);
    for (auto& b : m) b = static_cast<uint8_t>(rng());
    return m;
  };
  if (mode == "sequential") {
    for (int i = 0; i < count; ++i) {
      int fd = connect_to(to);
      exchange(fd, message(), i);
      finish(fd, i);
    }
  } else if (mode == "concurrent") {
    std::vector<int> fds;
    for (int i = 0; i < count; ++i) fds.push_back(connect_to(to));
    std::vector<std::vector<uint8_t>> msgs;
    for (int i = 0; i < count; ++i) msgs.push_back(message());
    for (int i = 0; i < count; ++i) exchange(fds[i], msgs[i], i);
    for (int i = 0; i < count; ++i) finish(fds[i], i);
  } else {
    die("unknown mode " + mode);
  }
  std::printf("ok %d\n", count);
  return 0;
}
