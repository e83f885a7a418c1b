#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace leasehold {

/// This build's version: the git SHA at configure time, else the BUILD_ID
/// given to CMake, else build-<timestamp>. The LEASEHOLD_VERSION environment
/// variable overrides it at run time (deploy stamps, drift tests).
std::string runtime_version();

/// Build metadata: compiler, platform, arch, build id, CAF and libpqxx
/// versions.
nlohmann::json build_metadata();

} // namespace leasehold
