// Payload text, as `enqueue --payload`, POST /jobs and children give it:
// either a compact JSON text within the limits comes out, or one line
// saying why not; never another exception, a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/input_limits.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace leasehold;

namespace {

// Whether any key or string in `j` holds a NUL, which jsonb cannot store.
bool holds_nul(const nlohmann::json& j) {
  std::vector<const nlohmann::json*> todo{&j};
  while (!todo.empty()) {
    const auto* v = todo.back();
    todo.pop_back();
    if (v->is_string() && v->get_ref<const std::string&>().find('\0') != std::string::npos)
      return true;
    if (v->is_object())
      for (const auto& item : v->items()) {
        if (item.key().find('\0') != std::string::npos)
          return true;
        todo.push_back(&item.value());
      }
    else if (v->is_array())
      for (const auto& x : *v)
        todo.push_back(&x);
  }
  return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  const input_limits limits{4096};
  std::string out;
  try {
    out = payload_from_text(text, limits);
  } catch (const std::invalid_argument& e) {
    fuzz::require_one_line(e.what());
    return 0;
  }
  fuzz::require(out.size() <= limits.max_payload_bytes, "payload over the limit", out);
  auto again = nlohmann::json::parse(out, nullptr, false);
  fuzz::require(!again.is_discarded(), "payload is not JSON", out);
  fuzz::require(!holds_nul(again), "payload holds a NUL (\\u0000)", out);
  fuzz::require(again.dump() == out, "payload is not compact and stable", out);
  // The parsed form takes the same way (children are given as JSON).
  try {
    fuzz::require(payload_from_json(again, limits) == out, "payload_from_json differs", out);
  } catch (const std::invalid_argument& e) {
    fuzz::require(false, "payload_from_json refused an accepted payload", e.what());
  }
  return 0;
}
