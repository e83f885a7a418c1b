#pragma once

#include <string>
#include <vector>

/// Values hostile tests feed to every flag, parameter and field: malformed,
/// absurd numbers, SQL metacharacters, invalid UTF-8, control characters,
/// huge. (NUL bytes cannot travel in argv; the tests send them in files,
/// URLs and bodies.)
namespace leasehold::test {

/// Every hostile value; `with_nul` adds ones holding a NUL byte.
std::vector<std::string> hostile_values(bool with_nul = false);

/// `text` with every byte that is not unreserved in a URL %-encoded.
std::string percent_encode(const std::string& text);

/// `text` with control bytes and non-ASCII shown as \xNN, cut to 60
/// characters: for test messages.
std::string printable(const std::string& text);

/// Number of '\n' in `text`.
size_t line_count(const std::string& text);

} // namespace leasehold::test
