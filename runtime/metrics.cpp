#include "runtime/metrics.hpp"

#include <cstdio>

namespace leasehold {

void histogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i])
    ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<int64_t>(seconds * 1e6),
                        std::memory_order_relaxed);
}

std::string histogram::render(const std::string& name,
                              const std::string& help) const {
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name
                    + " histogram\n";
  int64_t cumulative = 0;
  char line[160];
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    if (i < bounds.size())
      std::snprintf(line, sizeof(line), "%s_bucket{le=\"%g\"} %lld\n",
                    name.c_str(), bounds[i], static_cast<long long>(cumulative));
    else
      std::snprintf(line, sizeof(line), "%s_bucket{le=\"+Inf\"} %lld\n",
                    name.c_str(), static_cast<long long>(cumulative));
    out += line;
  }
  std::snprintf(line, sizeof(line), "%s_sum %.6f\n%s_count %lld\n", name.c_str(),
                static_cast<double>(sum_micros_.load()) / 1e6, name.c_str(),
                static_cast<long long>(cumulative));
  return out + line;
}

} // namespace leasehold
