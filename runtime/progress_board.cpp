#include "runtime/progress_board.hpp"

#include <cmath>

#include "runtime/defaults.hpp"
#include "runtime/text.hpp"

namespace leasehold {

void progress_board::report(const lease_ref& lease, double value,
                            const std::string& message) {
  if (!std::isfinite(value))
    return;
  progress_report r{lease, value,
                    clean_text(message, defaults::max_progress_message_bytes)};
  std::lock_guard<std::mutex> guard{mtx_};
  reports_[{lease.job_id, lease.attempt}] = {std::move(r), true};
}

std::vector<progress_report> progress_board::take_all() {
  std::vector<progress_report> out;
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& kv : reports_)
    if (kv.second.unwritten) {
      out.push_back(kv.second.latest);
      kv.second.unwritten = false;
    }
  return out;
}

std::optional<progress_report> progress_board::take(const lease_ref& lease) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = reports_.find({lease.job_id, lease.attempt});
  if (i == reports_.end())
    return std::nullopt;
  auto r = std::move(i->second.latest);
  reports_.erase(i);
  return r;
}

std::optional<progress_report> progress_board::peek(const lease_ref& lease) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = reports_.find({lease.job_id, lease.attempt});
  if (i == reports_.end())
    return std::nullopt;
  return i->second.latest;
}

} // namespace leasehold
