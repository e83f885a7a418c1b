// Where a connection's next claim starts: past the last full batch; from
// the head after a short batch, unless the head is expensive to walk (a
// pinned xmin keeps its dead entries), and always once the cursor is
// max_age old.
#include "persistence/claim_cursor.hpp"

#include <boost/test/unit_test.hpp>

using namespace leasehold;
using namespace std::chrono_literals;

namespace {

const claim_key first{"0", "2026-12-07 04:00:00+00", "10"};
const claim_key second{"0", "2026-12-07 04:00:01+00", "20"};
const auto t0 = claim_cursors::clock::time_point{} + 1h;

} // namespace

BOOST_AUTO_TEST_SUITE(claim_cursor)

BOOST_AUTO_TEST_CASE(a_cheap_head_is_walked_again_after_a_short_batch) {
  claim_cursors c;
  BOOST_TEST(!c.start("q", t0));
  c.claimed("q", 10, 10, first, true, 2ms, t0); // full
  BOOST_REQUIRE(c.start("q", t0 + 1ms));
  BOOST_TEST(c.start("q", t0 + 1ms)->id == "10");
  c.claimed("q", 3, 10, second, false, 1ms, t0 + 1ms); // short
  BOOST_TEST(!c.start("q", t0 + 2ms));
}

BOOST_AUTO_TEST_CASE(an_expensive_head_keeps_the_cursor_after_a_short_batch) {
  claim_cursors c;
  c.claimed("q", 0, 10, std::nullopt, true, 1ms, t0); // the connection's first claim
  c.claimed("q", 3, 10, first, true, 30ms, t0); // short, but the walk cost 30 ms
  BOOST_REQUIRE(c.start("q", t0 + 1ms));
  BOOST_TEST(c.start("q", t0 + 1ms)->id == "10");
  c.claimed("q", 2, 10, second, false, 1ms, t0 + 1ms);
  BOOST_REQUIRE(c.start("q", t0 + 2ms));
  BOOST_TEST(c.start("q", t0 + 2ms)->id == "20");
  c.claimed("q", 0, 10, std::nullopt, false, 1ms, t0 + 2ms); // nothing new
  BOOST_REQUIRE(c.start("q", t0 + 3ms));
  BOOST_TEST(c.start("q", t0 + 3ms)->id == "20");
}

BOOST_AUTO_TEST_CASE(the_head_is_walked_again_once_the_cursor_is_max_age_old) {
  claim_cursors c;
  c.set_max_age(500ms);
  c.claimed("q", 0, 10, std::nullopt, true, 1ms, t0); // the connection's first claim
  c.claimed("q", 3, 10, first, true, 30ms, t0);
  c.claimed("q", 2, 10, second, false, 1ms, t0 + 400ms); // moving it keeps its age
  BOOST_TEST(c.start("q", t0 + 450ms).has_value());
  BOOST_TEST(!c.start("q", t0 + 501ms)); // a job that sorts first is found now
  // The head became cheap again (VACUUM ran): back to resets after short batches.
  c.claimed("q", 3, 10, first, true, 1ms, t0 + 502ms);
  BOOST_TEST(!c.start("q", t0 + 503ms));
}

// The first claim of a queue on a connection also plans the statement and
// compiles its plpgsql functions (~5 ms on a loaded machine): a short first
// batch must not keep a cursor that hides a job sorting before it.
BOOST_AUTO_TEST_CASE(the_first_claim_is_not_taken_for_an_expensive_head) {
  claim_cursors c;
  c.claimed("q", 3, 10, first, true, 30ms, t0);
  BOOST_TEST(!c.start("q", t0 + 1ms));
}

BOOST_AUTO_TEST_CASE(queues_keep_cursors_of_their_own) {
  claim_cursors c;
  c.claimed("a", 10, 10, first, true, 1ms, t0);
  BOOST_TEST(c.start("a", t0).has_value());
  BOOST_TEST(!c.start("b", t0));
}

BOOST_AUTO_TEST_CASE(the_cost_of_the_head_allows_for_the_rows_updated) {
  BOOST_TEST(!head_is_expensive(1ms, 0));
  BOOST_TEST(!head_is_expensive(20ms, 500)); // 500 rows: ~12 ms of updates
  BOOST_TEST(head_is_expensive(30ms, 10));
  BOOST_TEST(head_is_expensive(40ms, 500));
}

BOOST_AUTO_TEST_SUITE_END()
