// Splitting --exec command lines: a few quoting rules, never a shell.
#include "runtime/exec_command.hpp"

#include <stdexcept>

namespace leasehold {

std::vector<std::string> split_command_line(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false; // so that '' is an (empty) word
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    // Tabs and newlines too: a spec that looks like one line must be one.
    if (c < 0x20 || c == 0x7f)
      throw std::invalid_argument("control character in the command line");
    if (c == ' ') {
      if (in_word)
        words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'' || c == '"') {
      auto end = text.find(static_cast<char>(c), i + 1);
      if (end == std::string::npos)
        throw std::invalid_argument(std::string{"unbalanced "}
                                    + (c == '"' ? "double" : "single") + " quote");
      auto quoted = text.substr(i + 1, end - i - 1);
      for (unsigned char q : quoted)
        if (q < 0x20 || q == 0x7f)
          throw std::invalid_argument("control character in the command line");
      word += quoted;
      in_word = true;
      i = end;
    } else {
      word += static_cast<char>(c);
      in_word = true;
    }
  }
  if (in_word)
    words.push_back(std::move(word));
  if (words.empty())
    throw std::invalid_argument("empty command");
  return words;
}

} // namespace leasehold
