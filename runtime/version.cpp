#include "runtime/version.hpp"

#include <sys/utsname.h>

#include <cstdlib>

#include <caf/config.hpp>
#include <pqxx/version.hxx>

namespace leasehold {

std::string runtime_version() {
  if (const char* v = std::getenv("LEASEHOLD_VERSION"); v != nullptr && *v != '\0')
    return v;
  return LEASEHOLD_BUILD_VERSION;
}

nlohmann::json build_metadata() {
  utsname u{};
  uname(&u);
  return {{"compiler", "g++ " __VERSION__},
          {"platform", u.sysname},
          {"arch", u.machine},
          {"build_id", LEASEHOLD_BUILD_VERSION},
          {"caf", std::to_string(CAF_VERSION / 10000) + "."
                    + std::to_string(CAF_VERSION / 100 % 100) + "."
                    + std::to_string(CAF_VERSION % 100)},
          {"libpqxx", PQXX_VERSION}};
}

} // namespace leasehold
