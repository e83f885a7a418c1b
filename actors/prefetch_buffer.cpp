#include "actors/prefetch_buffer.hpp"

#include <iterator>

#include <algorithm>
#include <cmath>
#include <utility>

namespace leasehold {

prefetch_buffer::prefetch_buffer(std::map<std::string, int32_t> concurrency,
                                 prefetch_settings s)
  : settings_(s), last_retarget_(clock::now()) {
  for (const auto& [queue, slots] : concurrency) {
    auto& q = queues_[queue];
    q.concurrency = slots;
    // A fixed buffer without a horizon; otherwise none until attempts are
    // seen to end (a node starting on long jobs hoards nothing).
    q.target = settings_.horizon.count() == 0 ? settings_.limit : 0;
  }
}

void prefetch_buffer::add(claimed_job job, clock::time_point now) {
  auto& q = queues_[job.queue];
  auto priority = job.priority;
  q.waiting[priority].push_back({std::move(job), now});
  ++q.count;
}

std::optional<claimed_job> prefetch_buffer::start_next(const std::string& queue,
                                                       clock::time_point now) {
  auto i = queues_.find(queue);
  if (i == queues_.end())
    return std::nullopt;
  auto& q = i->second;
  if (q.count == 0 || q.running >= q.concurrency)
    return std::nullopt;
  auto first = q.waiting.begin();
  auto next = std::move(first->second.front());
  first->second.pop_front();
  if (first->second.empty())
    q.waiting.erase(first);
  --q.count;
  ++q.running;
  next.job.buffered_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(now - next.since).count();
  return std::move(next.job);
}

void prefetch_buffer::attempt_ended(const std::string& queue) {
  auto i = queues_.find(queue);
  if (i != queues_.end() && i->second.running > 0) {
    --i->second.running;
    ++i->second.ends;
  }
}

int32_t prefetch_buffer::running(const std::string& queue) const {
  auto i = queues_.find(queue);
  return i == queues_.end() ? 0 : i->second.running;
}

std::vector<lease_ref> prefetch_buffer::leases() const {
  std::vector<lease_ref> out;
  out.reserve(size());
  for (const auto& [name, q] : queues_)
    for (const auto& [priority, jobs] : q.waiting)
      for (const auto& w : jobs)
        out.push_back({w.job.id, w.job.attempt});
  return out;
}

std::optional<std::string> prefetch_buffer::drop(const lease_ref& lease,
                                                 int64_t claim_seq) {
  for (auto& [name, q] : queues_)
    for (auto p = q.waiting.begin(); p != q.waiting.end(); ++p) {
      auto& jobs = p->second;
      auto hit = std::find_if(jobs.begin(), jobs.end(), [&](const buffered_job& w) {
        return w.job.id == lease.job_id && w.job.attempt == lease.attempt
               && w.job.claim_seq <= claim_seq;
      });
      if (hit == jobs.end())
        continue;
      jobs.erase(hit);
      if (jobs.empty())
        q.waiting.erase(p);
      --q.count;
      return name;
    }
  return std::nullopt;
}

std::vector<claimed_job> prefetch_buffer::take_all() {
  std::vector<claimed_job> out;
  for (const auto& kv : queues_) {
    auto jobs = take_queue(kv.first);
    std::move(jobs.begin(), jobs.end(), std::back_inserter(out));
  }
  return out;
}

std::vector<claimed_job> prefetch_buffer::take_queue(const std::string& queue) {
  std::vector<claimed_job> out;
  auto i = queues_.find(queue);
  if (i == queues_.end())
    return out;
  for (auto& [priority, jobs] : i->second.waiting)
    for (auto& w : jobs)
      out.push_back(std::move(w.job));
  i->second.waiting.clear();
  i->second.count = 0;
  return out;
}

std::vector<claimed_job> prefetch_buffer::take_overdue(clock::time_point now) {
  std::vector<claimed_job> out;
  for (auto& [name, q] : queues_)
    for (auto p = q.waiting.begin(); p != q.waiting.end();) {
      auto& jobs = p->second;
      auto kept = std::stable_partition(jobs.begin(), jobs.end(), [&](const buffered_job& w) {
        return now - w.since <= settings_.max_hold;
      });
      for (auto i = kept; i != jobs.end(); ++i)
        out.push_back(std::move(i->job));
      q.count -= static_cast<size_t>(jobs.end() - kept);
      jobs.erase(kept, jobs.end());
      p = jobs.empty() ? q.waiting.erase(p) : std::next(p);
    }
  return out;
}

int32_t prefetch_buffer::target(const std::string& queue) const {
  auto i = queues_.find(queue);
  return i == queues_.end() ? 0 : i->second.target;
}

std::map<std::string, int32_t> prefetch_buffer::retarget(clock::time_point now) {
  std::map<std::string, int32_t> changes;
  double seconds = std::chrono::duration<double>(now - last_retarget_).count();
  last_retarget_ = now;
  if (seconds <= 0)
    return changes;
  double horizon = std::chrono::duration<double>(settings_.horizon).count();
  for (auto& [name, q] : queues_) {
    double rate = static_cast<double>(q.ends) / seconds;
    if (!q.rated && q.ends == 0)
      continue; // nothing ended yet: keep the initial target
    q.ends = 0;
    // Smoothed over a few calls, so one quiet moment does not empty the buffer.
    q.rate = q.rated ? 0.5 * q.rate + 0.5 * rate : rate;
    q.rated = true;
    auto wanted = static_cast<int32_t>(
      std::min<double>(settings_.limit, std::floor(q.rate * horizon)));
    if (wanted != q.target) {
      changes[name] = wanted - q.target;
      q.target = wanted;
    }
  }
  return changes;
}

size_t prefetch_buffer::size() const {
  size_t n = 0;
  for (const auto& [name, q] : queues_)
    n += q.count;
  return n;
}

size_t prefetch_buffer::size(const std::string& queue) const {
  auto i = queues_.find(queue);
  return i == queues_.end() ? 0 : i->second.count;
}

} // namespace leasehold
