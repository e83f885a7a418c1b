#include "runtime/secrets.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace leasehold {

std::string read_secret_file(const std::string& flag, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("--" + flag + " '" + path + "': " + why);
  };
  std::ifstream in{path};
  std::vector<char> buf(max_secret_bytes + 1);
  if (in)
    in.getline(buf.data(), static_cast<std::streamsize>(buf.size()));
  auto got = static_cast<size_t>(in.gcount());
  if (!in && !in.eof() && got > 0)
    throw bad("the first line is longer than " + std::to_string(max_secret_bytes) + " bytes");
  if (in.bad() || got == 0)
    throw bad("cannot read the file, or it is empty");
  std::string line(buf.data(), in.eof() ? got : got - 1);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
    line.pop_back();
  if (line.empty())
    throw bad("the first line is empty");
  for (unsigned char c : line)
    if (c < 0x20 || c == 0x7f)
      throw bad("the first line holds a control character");
  return line;
}

const std::vector<std::string>& secret_env_names() {
  static const std::vector<std::string> names = {
    "DATABASE_URL", "LEASEHOLD_HTTP_TOKEN", "LEASEHOLD_HTTP_READ_TOKEN", "PGPASSWORD"};
  return names;
}

std::vector<std::string> child_environment(const std::vector<std::string>& pass) {
  auto& secret = secret_env_names();
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry{*e};
    auto name = entry.substr(0, entry.find('='));
    bool hidden = std::find(secret.begin(), secret.end(), name) != secret.end()
                  && std::find(pass.begin(), pass.end(), name) == pass.end();
    if (!hidden)
      env.push_back(std::move(entry));
  }
  return env;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

} // namespace leasehold
