#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace leasehold {

/// An append-only file of what this node's handlers actually executed, one
/// JSON line when an attempt's handler starts and one when it returns:
///   {"event":"start","job":7,"attempt":1,"worker":"...","at_ms":...}
///   {"event":"end",...,"outcome":"succeeded|handler_error|precondition_failed"}
/// The chaos suite compares it with what the database recorded (who ran
/// what, and whether executions of one job overlapped). Each line is
/// flushed at once, so a killed node loses at most the line being written.
class execution_ledger {
public:
  /// Opens `path` for appending; throws std::runtime_error if it cannot.
  explicit execution_ledger(const std::string& path);
  ~execution_ledger();
  execution_ledger(const execution_ledger&) = delete;
  execution_ledger& operator=(const execution_ledger&) = delete;

  void started(int64_t job, int32_t attempt, const std::string& worker);
  void ended(int64_t job, int32_t attempt, const std::string& worker,
             const char* outcome);

private:
  void write(const std::string& line);
  std::mutex mtx_;
  std::FILE* file_ = nullptr;
};

} // namespace leasehold
