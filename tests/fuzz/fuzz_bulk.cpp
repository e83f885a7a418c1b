// Bulk NDJSON (`enqueue --file`, `run create --partitions`) and the JSON
// objects of POST /jobs and POST /runs: what is accepted is within every
// limit; what is refused is one line naming the line; nothing else escapes.
#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "runtime/bulk_file.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace leasehold;

namespace {

const input_limits limits{4096};

void check_name_ok(const std::string& what, const std::string& value) {
  try {
    check_name(what, value);
  } catch (const std::invalid_argument& e) {
    fuzz::require(false, "accepted a name check_name refuses", e.what());
  }
}

void check_payload_ok(const std::string& payload) {
  fuzz::require(payload.size() <= limits.max_payload_bytes, "payload over the limit");
  try {
    check_payload_text(payload, limits);
  } catch (const std::invalid_argument& e) {
    fuzz::require(false, "accepted a payload the limits refuse", e.what());
  }
}

void check_job(const new_job& j) {
  check_name_ok("type", j.type);
  check_payload_ok(j.payload);
  for (const auto* name : {&j.queue, &j.run_at, &j.correlation_id})
    if (*name)
      check_name_ok("field", **name);
}

template <class F>
void refused_in_one_line(F&& parse, bool numbered) {
  try {
    parse();
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    fuzz::require_one_line(what);
    if (numbered)
      fuzz::require(what.find(": ") != std::string::npos && what[0] >= '0' && what[0] <= '9',
                    "a bulk error does not name its line", what);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  refused_in_one_line([&] {
    std::istringstream in{text};
    for (const auto& j : read_bulk_jobs(in, limits))
      check_job(j);
  }, true);
  refused_in_one_line([&] {
    std::istringstream in{text};
    std::set<std::string> keys;
    for (const auto& p : read_partitions(in, limits)) {
      check_name_ok("key", p.key);
      check_payload_ok(p.payload);
      fuzz::require(keys.insert(p.key).second, "duplicate partition key accepted", p.key);
    }
  }, true);
  refused_in_one_line([&] { check_job(parse_job_object(text, limits)); }, false);
  refused_in_one_line([&] {
    auto run = parse_run_object(text, limits);
    check_name_ok("type", run.type);
    fuzz::require(!run.partitions.empty(), "a run without partitions accepted");
    for (const auto& p : run.partitions)
      check_name_ok("key", p.key);
  }, false);
  return 0;
}
