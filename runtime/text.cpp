#include "runtime/text.hpp"

#include <utility>

namespace leasehold {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD

bool in(unsigned char c, unsigned char lo, unsigned char hi) {
  return c >= lo && c <= hi;
}

// Well-formed UTF-8 as Unicode 15 (table 3-7) defines it. How many bytes
// from text[i] form a well-formed sequence (complete) or
// the longest start of one (not complete, at least 1 byte): that maximal
// part becomes one U+FFFD, as the Unicode standard recommends.
std::pair<size_t, bool> utf8_prefix(std::string_view text, size_t i) {
  auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80)
    return {1, true};
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
  if (in(c, 0xC2, 0xDF))
    n = 2;
  else if (in(c, 0xE0, 0xEF))
    n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (in(c, 0xF0, 0xF4))
    n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else
    return {1, false};
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= text.size())
      return {k, false};
    auto b = static_cast<unsigned char>(text[i + k]);
    if (k == 1 ? !in(b, lo, hi) : !in(b, 0x80, 0xBF))
      return {k, false};
  }
  return {n, true};
}

// `text` made valid, NUL removed, not yet cut.
std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      ++i;
      continue;
    }
    auto [n, complete] = utf8_prefix(text, i);
    if (complete)
      out.append(text.data() + i, n);
    else
      out += replacement;
    i += n;
  }
  return out;
}

bool continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

} // namespace

size_t utf8_sequence_length(std::string_view text, size_t i) {
  auto [n, complete] = utf8_prefix(text, i);
  return complete ? n : 0;
}

std::string clean_text(std::string_view text, size_t max_bytes) {
  // Only the head can survive; a character the window cuts is dropped.
  if (text.size() > max_bytes) {
    auto cut = max_bytes;
    while (cut > 0 && max_bytes - cut < 3 && continuation(text[cut]))
      --cut;
    text = text.substr(0, cut);
  }
  auto out = sanitize(text);
  if (out.size() > max_bytes) {
    auto cut = max_bytes;
    while (cut > 0 && continuation(out[cut]))
      --cut;
    out.resize(cut);
  }
  return out;
}

std::string clean_text_tail(std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes)
    text = text.substr(text.size() - max_bytes);
  // A character the window cut in half is dropped, not replaced.
  size_t skip = 0;
  while (skip < text.size() && skip < 3 && continuation(text[skip]))
    ++skip;
  auto out = sanitize(text.substr(skip));
  if (out.size() > max_bytes) { // replacements grew it: keep the end
    auto from = out.size() - max_bytes;
    while (from < out.size() && continuation(out[from]))
      ++from;
    out.erase(0, from);
  }
  return out;
}

std::string one_line(std::string_view text, size_t max_bytes) {
  bool longer = text.size() > max_bytes;
  auto out = clean_text(text, max_bytes);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = ' ';
  if (longer) // "..." says the text was cut
    out = clean_text(out, max_bytes > 3 ? max_bytes - 3 : 0) + "...";
  return out;
}

} // namespace leasehold
