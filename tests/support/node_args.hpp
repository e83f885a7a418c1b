#pragma once

#include <string>
#include <utility>
#include <vector>

namespace leasehold::test {

/// `leasehold node` with `defaults` (flag, value), each replaced by the
/// same flag in `extra`, and the rest of `extra` (the CLI takes a flag
/// once). Defined in cluster_node.cpp.
std::vector<std::string> node_args_over(std::vector<std::pair<std::string, std::string>> defaults,
                                        const std::vector<std::string>& extra);

} // namespace leasehold::test
