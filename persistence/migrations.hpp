#pragma once

#include <string_view>
#include <vector>

/// The ordered list of schema migrations. Append only; never edit one that
/// has landed.
namespace leasehold {

struct migration {
  int version;
  std::string_view name;
  std::string_view text;
};

const std::vector<migration>& all_migrations();

} // namespace leasehold
