#pragma once

#include <string>

namespace leasehold {

/// A random RFC 4122 version-4 UUID in its canonical text form.
std::string make_uuid_v4();

/// This process's worker id: "{base}-{uuid v4}", fresh at every start.
std::string make_worker_id(const std::string& base);

} // namespace leasehold
