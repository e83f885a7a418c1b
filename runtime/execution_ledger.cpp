#include "runtime/execution_ledger.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace leasehold {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace

execution_ledger::execution_ledger(const std::string& path)
  : file_(std::fopen(path.c_str(), "a")) {
  if (file_ == nullptr)
    throw std::runtime_error("cannot open execution ledger " + path + ": "
                             + std::strerror(errno));
}

execution_ledger::~execution_ledger() {
  std::fclose(file_);
}

void execution_ledger::started(int64_t job, int32_t attempt, const std::string& worker) {
  write(nlohmann::json{{"event", "start"}, {"job", job}, {"attempt", attempt},
                       {"worker", worker}, {"at_ms", now_ms()}}.dump());
}

void execution_ledger::ended(int64_t job, int32_t attempt, const std::string& worker,
                             const char* outcome) {
  write(nlohmann::json{{"event", "end"}, {"job", job}, {"attempt", attempt},
                       {"worker", worker}, {"at_ms", now_ms()}, {"outcome", outcome}}
          .dump());
}

void execution_ledger::write(const std::string& line) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

} // namespace leasehold
