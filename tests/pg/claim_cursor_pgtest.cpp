// Where a claim starts: past its last full batch; from the head after a
// short batch while the head is cheap to walk, and once the cursor is
// max_age old. A session pinning the xmin horizon keeps every claimed job's
// dead entry at the head: claims must not all walk them.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/support/pg_fixture.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

std::vector<int64_t> ids(const std::vector<claimed_job>& jobs) {
  std::vector<int64_t> out;
  for (const auto& j : jobs)
    out.push_back(j.id);
  return out;
}

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (auto i = from; i <= to; ++i)
    out.push_back(i);
  return out;
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t)
    .count();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(claim_cursor_pg, pg_fixture)

BOOST_AUTO_TEST_CASE(a_claim_resumes_after_its_last_full_batch) {
  register_worker(db, "w");
  db.execute("INSERT INTO leasehold.jobs (type, queue) SELECT 'noop', 'cursor'"
             " FROM generate_series(1, 30)");
  auto first = std::stoll(value("SELECT min(id) FROM leasehold.jobs"));
  BOOST_TEST(ids(db.claim("w", "cursor", 10, {"noop"})) == range(first, first + 9));
  auto urgent = std::stoll(value("INSERT INTO leasehold.jobs (type, queue, priority)"
                                 " VALUES ('noop', 'cursor', -1) RETURNING id"));
  BOOST_TEST(ids(db.claim("w", "cursor", 10, {"noop"})) == range(first + 10, first + 19));
  // Short: 10 of 20. The next claim starts from the head and finds it.
  BOOST_TEST(ids(db.claim("w", "cursor", 20, {"noop"})) == range(first + 20, first + 29));
  BOOST_TEST(ids(db.claim("w", "cursor", 10, {"noop"})) == std::vector<int64_t>{urgent});
}

BOOST_AUTO_TEST_CASE(a_claim_cursor_expires_after_its_max_age) {
  register_worker(db, "w");
  db.execute("INSERT INTO leasehold.jobs (type, queue) SELECT 'noop', 'cursor'"
             " FROM generate_series(1, 30)");
  db.set_claim_cursor_max_age(50ms);
  BOOST_TEST(db.claim("w", "cursor", 10, {"noop"}).size() == 10u);
  auto urgent = std::stoll(value("INSERT INTO leasehold.jobs (type, queue, priority)"
                                 " VALUES ('noop', 'cursor', -1) RETURNING id"));
  std::this_thread::sleep_for(100ms);
  auto next = db.claim("w", "cursor", 10, {"noop"});
  BOOST_REQUIRE(next.size() == 10u);
  BOOST_TEST(next.front().id == urgent);
}

BOOST_AUTO_TEST_CASE(a_pinned_xmin_does_not_make_every_short_claim_walk_the_dead_head) {
  register_worker(db, "w");
  // The connection's first claim plans and compiles, and is not timed.
  BOOST_TEST(db.claim("w", "default", 10, {"noop"}).empty());
  // Another session's snapshot, held for 8 s: nothing claimed from now on
  // can be cleaned up, by VACUUM or by index scans.
  std::thread pin([] {
    store other{test_dsn()};
    other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ;"
                  " SELECT count(*) FROM leasehold.worker_instances; SELECT pg_sleep(8); COMMIT");
  });
  std::this_thread::sleep_for(500ms);
  // 150k jobs claimed and completed since the pin: their dead entries stay.
  db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 150000)");
  db.execute("UPDATE leasehold.jobs SET status = 'running', locked_by = 'w', attempts = 1");
  db.execute("DELETE FROM leasehold.jobs");
  db.set_claim_cursor_max_age(1500ms);
  auto enqueue_three = [&] {
    db.execute("INSERT INTO leasehold.jobs (type) SELECT 'noop' FROM generate_series(1, 3)");
  };
  // A steady trickle: every claim is short (3 of 10).
  enqueue_three();
  auto t = std::chrono::steady_clock::now();
  BOOST_TEST(db.claim("w", "default", 10, {"noop"}).size() == 3u);
  auto head_ms = ms_since(t);
  double later_ms = 0;
  for (int i = 0; i < 5; ++i) {
    enqueue_three();
    t = std::chrono::steady_clock::now();
    BOOST_TEST(db.claim("w", "default", 10, {"noop"}).size() == 3u);
    later_ms += ms_since(t);
  }
  BOOST_TEST_MESSAGE("claim from the dead head " << head_ms << " ms; the next five "
                     << later_ms << " ms in all");
  // Each of the five would walk the head again: ~5x the first claim.
  BOOST_TEST(later_ms * 2 < head_ms, later_ms << " ms vs " << head_ms << " ms");
  // A job that sorts first is still found once the cursor is max_age old.
  auto urgent = std::stoll(value("INSERT INTO leasehold.jobs (type, priority)"
                                 " VALUES ('noop', -1) RETURNING id"));
  std::this_thread::sleep_for(1600ms);
  auto next = db.claim("w", "default", 10, {"noop"});
  BOOST_REQUIRE(!next.empty());
  BOOST_TEST(next.front().id == urgent);
  pin.join();
}

BOOST_AUTO_TEST_SUITE_END()
