#pragma once

#include <cstddef>
#include <string>
#include <vector>

/// Secrets: read from files (so they stay out of `ps`), kept out of the
/// environment of external programs.
namespace leasehold {

/// Longest first line of a secret file (4 KiB); /dev/zero is refused
/// after that many bytes.
inline constexpr size_t max_secret_bytes = 4096;

/// First line of the file at `path`, trailing "\r\n" stripped. Throws
/// std::invalid_argument naming `flag` (not the content) if the file is
/// unreadable, or the line is empty, longer than max_secret_bytes or holds
/// a control character (a NUL would cut the secret short unseen).
std::string read_secret_file(const std::string& flag, const std::string& path);

/// Environment variables holding secrets: an external program sees them only
/// when named with --exec-env-pass.
const std::vector<std::string>& secret_env_names();

/// This process's environment as "NAME=value" entries, minus the secret
/// names not listed in `pass`.
std::vector<std::string> child_environment(const std::vector<std::string>& pass);

/// True if `host` can only be reached from this machine.
bool is_loopback_host(const std::string& host);

} // namespace leasehold
