#pragma once

#include <cstddef>
#include <string>
#include <string_view>

/// Text that must be storable as it is: what handlers and programs say
/// becomes a job's last_error, and one text Postgres rejects would make the
/// whole outcome unwritable.
namespace leasehold {

/// Bytes an error text may have once recorded (4 KiB).
inline constexpr size_t max_error_bytes = 4096;

/// `text` as valid UTF-8: each byte that does not belong to a well-formed
/// sequence becomes U+FFFD, NUL bytes are removed, and the result is cut
/// after at most `max_bytes` bytes, at a character boundary (the head is kept).
std::string clean_text(std::string_view text, size_t max_bytes = max_error_bytes);

/// The same, keeping the last `max_bytes` bytes instead (a stderr tail): a
/// character cut by the start of the window is dropped, not half kept.
std::string clean_text_tail(std::string_view text, size_t max_bytes);

/// `text` as one line for people: clean_text, then every control
/// character (newlines, tabs, escapes) as a space, cut to `max_bytes` with
/// "..." when longer. For error messages that quote their input.
std::string one_line(std::string_view text, size_t max_bytes = 300);

/// Length of the well-formed UTF-8 sequence starting at `text[i]`, or 0
/// when the bytes there are not one (stray continuation byte, overlong
/// form, surrogate, beyond U+10FFFF, cut short).
size_t utf8_sequence_length(std::string_view text, size_t i);

} // namespace leasehold
