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
  pending_[{lease.job_id, lease.attempt}] = std::move(r);
}

std::vector<progress_report> progress_board::take_all() {
  std::map<std::pair<int64_t, int32_t>, progress_report> taken;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    taken.swap(pending_);
  }
  std::vector<progress_report> out;
  out.reserve(taken.size());
  for (auto& kv : taken)
    out.push_back(std::move(kv.second));
  return out;
}

std::optional<progress_report> progress_board::take(const lease_ref& lease) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = pending_.find({lease.job_id, lease.attempt});
  if (i == pending_.end())
    return std::nullopt;
  auto r = std::move(i->second);
  pending_.erase(i);
  return r;
}

} // namespace leasehold
