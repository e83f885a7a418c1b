#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/cluster_types.hpp"

/// The cluster as one node gathered it, as JSON (GET /cluster, `leasehold
/// cluster`): the views that came back, and the nodes that did not answer
/// with the reason.
namespace leasehold {

std::string cluster_report_json(const std::vector<cluster_view_v1>& views,
                                const std::vector<cluster_link_v1>& unreachable,
                                const std::string& gathered_by, int64_t took_ms);

} // namespace leasehold
