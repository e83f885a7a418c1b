// leasehold-fault-proxy: the test suite's fault-injecting TCP proxy as a
// program, for chaos scripts. It sits between one node and Postgres:
//
//   leasehold-fault-proxy --target 127.0.0.1:55432 [--listen 127.0.0.1:6543]
//                         [--control 127.0.0.1:6544]
//   DATABASE_URL=postgresql://postgres@127.0.0.1:6543/leasehold leasehold node
//   echo blackhole > /dev/tcp/127.0.0.1/6544     # or write it to stdin
//
// Its first line on stdout is "listening 127.0.0.1:PORT" (--listen 0, the
// default, picks a free port). --target may also be SOCKET_DIR:PORT, for
// Postgres's unix socket. Commands, one a line, each answered "ok" or
// "error: ...": pass, blackhole, reset, delay MS. Without --control it ends
// when stdin does.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "tests/support/fault_proxy.hpp"

using leasehold::test::fault_proxy;

namespace {

int usage() {
  std::cerr << "usage: leasehold-fault-proxy --target [HOST:]PORT [--listen [127.0.0.1:]PORT]"
               " [--control [127.0.0.1:]PORT]\n  commands (stdin or the control port):"
               " pass, blackhole, reset, delay MS\n";
  return 2;
}

// PORT or 127.0.0.1:PORT (localhost too): the proxy serves loopback only.
// -1 for anything else.
int loopback_port(const std::string& arg) {
  auto colon = arg.rfind(':');
  auto host = colon == std::string::npos ? std::string{"127.0.0.1"} : arg.substr(0, colon);
  auto port = arg.substr(colon == std::string::npos ? 0 : colon + 1);
  if ((host != "127.0.0.1" && host != "localhost") || port.empty()
      || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5)
    return -1;
  auto n = std::stoi(port);
  return n <= 65535 ? n : -1;
}

// Answers the commands of one control connection until it closes.
void serve(fault_proxy& proxy, int fd) {
  std::string pending;
  char buf[512];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) {
    pending.append(buf, static_cast<size_t>(n));
    for (size_t eol; (eol = pending.find('\n')) != std::string::npos;) {
      auto reply = proxy.command(pending.substr(0, eol)) + "\n";
      pending.erase(0, eol + 1);
      [[maybe_unused]] auto w = write(fd, reply.data(), reply.size());
    }
  }
  if (!pending.empty()) { // `printf blackhole | nc`: no final newline
    auto reply = proxy.command(pending) + "\n";
    [[maybe_unused]] auto w = write(fd, reply.data(), reply.size());
  }
  close(fd);
}

int control_listener(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 8) != 0)
    return -1;
  return fd;
}

} // namespace

int main(int argc, char** argv) {
  // A control client that leaves before its answer must not end the proxy.
  signal(SIGPIPE, SIG_IGN);
  std::string target;
  int listen_port = 0, control_port = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--target")
      target = argv[i + 1];
    else if (flag == "--listen")
      listen_port = loopback_port(argv[i + 1]);
    else if (flag == "--control")
      control_port = loopback_port(argv[i + 1]);
    else
      return usage();
    if ((flag == "--listen" && listen_port < 0) || (flag == "--control" && control_port < 0))
      return usage();
  }
  if (target.empty() || argc % 2 == 0)
    return usage();
  auto colon = target.rfind(':');
  auto host = colon == std::string::npos ? std::string{"127.0.0.1"} : target.substr(0, colon);
  auto target_port = std::atoi(target.c_str() + (colon == std::string::npos ? 0 : colon + 1));
  try {
    fault_proxy proxy{static_cast<uint16_t>(target_port), host,
                      static_cast<uint16_t>(listen_port)};
    int control = control_port < 0 ? -1 : control_listener(control_port);
    if (control_port >= 0 && control < 0) {
      std::cerr << "leasehold-fault-proxy: cannot listen on control port " << control_port << "\n";
      return 1;
    }
    std::cout << "listening 127.0.0.1:" << proxy.port() << std::endl;
    std::cerr << "leasehold-fault-proxy: forwarding to " << host << ":" << target_port;
    if (control >= 0)
      std::cerr << ", commands on 127.0.0.1:" << control_port;
    std::cerr << std::endl;
    std::thread stdin_reader([&] {
      for (std::string line; std::getline(std::cin, line);)
        std::cout << proxy.command(line) << std::endl;
    });
    if (control < 0) {
      stdin_reader.join();
      return 0;
    }
    stdin_reader.detach();
    for (int fd; (fd = accept(control, nullptr, nullptr)) >= 0;)
      serve(proxy, fd);
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "leasehold-fault-proxy: " << e.what() << "\n";
    return 1;
  }
}
