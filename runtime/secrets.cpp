#include "runtime/secrets.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace leasehold {

std::string read_secret_file(const std::string& flag, const std::string& path) {
  std::ifstream in{path};
  std::string line;
  if (!in || !std::getline(in, line))
    throw std::invalid_argument("--" + flag + " '" + path
                                + "': cannot read the file, or it is empty");
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
    line.pop_back();
  if (line.empty())
    throw std::invalid_argument("--" + flag + " '" + path + "': the first line is empty");
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
