// The progress board keeps each attempt's latest report for the heartbeat.
#include <cmath>
#include <limits>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "runtime/progress_board.hpp"

using namespace leasehold;

BOOST_AUTO_TEST_SUITE(progress_board_reports)

BOOST_AUTO_TEST_CASE(the_heartbeat_takes_each_attempts_latest_report_once) {
  progress_board board;
  for (int i = 1; i <= 1000; ++i)
    board.report({7, 1}, i, "item " + std::to_string(i));
  board.report({8, 2}, 5, "other");
  auto taken = board.take_all();
  BOOST_REQUIRE(taken.size() == 2u);
  BOOST_TEST(taken[0].lease.job_id == 7);
  BOOST_TEST(taken[0].value == 1000);
  BOOST_TEST(taken[0].message == "item 1000");
  BOOST_TEST(board.take_all().empty()); // nothing new since
  board.report({7, 1}, 1001, "");
  BOOST_TEST(board.take_all().size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_outcome_takes_the_last_report_written_or_not) {
  progress_board board;
  board.report({7, 1}, 40, "forty");
  board.take_all(); // written by a heartbeat
  auto last = board.take({7, 1});
  BOOST_REQUIRE(last.has_value());
  BOOST_TEST(last->value == 40);
  BOOST_TEST(!board.take({7, 1}).has_value()); // forgotten
  BOOST_TEST(!board.take({9, 1}).has_value());
  BOOST_TEST(board.take_all().empty());
}

BOOST_AUTO_TEST_CASE(values_json_cannot_hold_are_ignored_and_messages_cut) {
  progress_board board;
  board.report({1, 1}, std::numeric_limits<double>::quiet_NaN(), "nan");
  board.report({1, 1}, std::numeric_limits<double>::infinity(), "inf");
  BOOST_TEST(board.take_all().empty());
  board.report({1, 1}, 1, std::string(5000, 'm') + "\xff");
  auto taken = board.take_all();
  BOOST_REQUIRE(taken.size() == 1u);
  BOOST_TEST(taken[0].message.size() == 200u);
}

BOOST_AUTO_TEST_CASE(many_threads_report_while_the_heartbeat_takes) {
  progress_board board;
  std::vector<std::thread> handlers;
  for (int t = 0; t < 4; ++t)
    handlers.emplace_back([&board, t] {
      for (int i = 1; i <= 20000; ++i)
        board.report({t, 1}, i, "");
    });
  size_t taken = 0;
  for (int i = 0; i < 200; ++i)
    taken += board.take_all().size();
  for (auto& h : handlers)
    h.join();
  for (int t = 0; t < 4; ++t)
    BOOST_TEST(board.take({t, 1})->value == 20000);
  BOOST_TEST(taken <= 800u);
}

BOOST_AUTO_TEST_SUITE_END()
