#include "runtime/text.hpp"

#include <boost/test/unit_test.hpp>

using namespace leasehold;

namespace {

const std::string block = "\xE2\x96\x88"; // █, 3 bytes
const std::string fffd = "\xEF\xBF\xBD";  // U+FFFD

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto n = utf8_sequence_length(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(valid_text_passes_unchanged) {
  BOOST_TEST(clean_text("plain, €uro, 𝄞 clef\nline two") == "plain, €uro, 𝄞 clef\nline two");
  BOOST_TEST(clean_text("") == "");
}

BOOST_AUTO_TEST_CASE(invalid_sequences_become_one_replacement_each) {
  BOOST_TEST(clean_text("a\xFF" "b") == "a" + fffd + "b");
  BOOST_TEST(clean_text("a\xE2\x96" "b") == "a" + fffd + "b"); // cut short: one
  BOOST_TEST(clean_text("\xC0\xAF") == fffd + fffd);           // overlong
  BOOST_TEST(clean_text("\xED\xA0\x80") == fffd + fffd + fffd); // a surrogate
  BOOST_TEST(clean_text("\xF4\x90\x80\x80") == repeat(fffd, 4)); // beyond U+10FFFF
  BOOST_TEST(clean_text("\x80x") == fffd + "x");
}

BOOST_AUTO_TEST_CASE(nul_bytes_are_removed) {
  BOOST_TEST(clean_text(std::string("a\0b\0", 4)) == "ab");
}

BOOST_AUTO_TEST_CASE(the_head_is_cut_at_a_character_boundary) {
  auto text = repeat(block, 1500); // 4500 bytes
  auto head = clean_text(text);
  BOOST_TEST(head.size() == 4095u); // 1365 whole characters
  BOOST_TEST(head == repeat(block, 1365));
  BOOST_TEST(clean_text("abcdef", 4) == "abcd");
  BOOST_TEST(clean_text("ab" + block, 4) == "ab");
  BOOST_TEST(clean_text("a𝄞", 4) == "a"); // a 4-byte character cut after 3
  // Replacements may grow the text: still bounded, still whole.
  auto grown = clean_text(repeat("\xFF", 100), 10);
  BOOST_TEST(grown == repeat(fffd, 3));
}

BOOST_AUTO_TEST_CASE(the_tail_is_cut_at_a_character_boundary) {
  auto text = repeat(block, 1500);
  auto tail = clean_text_tail(text, 2048); // 2048 = 682 * 3 + 2
  BOOST_TEST(tail == repeat(block, 682));
  BOOST_TEST(valid_utf8(tail));
  BOOST_TEST(clean_text_tail("abcdef", 3) == "def");
  BOOST_TEST(clean_text_tail(block + "xy", 4) == "xy");
  BOOST_TEST(clean_text_tail(std::string("x\0y", 3), 10) == "xy");
  auto grown = clean_text_tail(repeat("\xFF", 100), 10);
  BOOST_TEST(grown == repeat(fffd, 3));
}

BOOST_AUTO_TEST_CASE(any_bytes_come_out_valid_and_bounded) {
  std::string bytes;
  for (int i = 0; i < 4096; ++i)
    bytes += static_cast<char>((i * 7919) % 256);
  for (size_t limit : {0u, 1u, 2u, 3u, 7u, 100u, 4096u}) {
    auto head = clean_text(bytes, limit);
    auto tail = clean_text_tail(bytes, limit);
    BOOST_TEST(head.size() <= limit);
    BOOST_TEST(tail.size() <= limit);
    BOOST_TEST(valid_utf8(head));
    BOOST_TEST(valid_utf8(tail));
    BOOST_TEST(head.find('\0') == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(one_line_makes_quoted_input_a_printable_line) {
  BOOST_TEST(one_line("a\nb\r\tc\x1b[0m") == "a b  c [0m");
  BOOST_TEST(one_line(std::string("a\0b", 3)) == "ab");
  BOOST_TEST(one_line("\xff") == "\xEF\xBF\xBD");
  auto cut = one_line(std::string(1000, 'x'), 300);
  BOOST_TEST(cut.size() == 300u);
  BOOST_TEST(cut.substr(297) == "...");
  BOOST_TEST(one_line(std::string(300, 'x'), 300).size() == 300u);
}

BOOST_AUTO_TEST_SUITE_END()
