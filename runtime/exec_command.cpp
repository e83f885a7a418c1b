// Splitting --exec command lines: a few quoting rules, never a shell.
#include "runtime/exec_command.hpp"

#include <unistd.h>

#include <stdexcept>

#include "runtime/text.hpp"

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

exec_spec parse_exec_spec(const std::string& spec) {
  // one_line(): a hostile spec may hold newlines or escape sequences.
  auto shown = "--exec '" + one_line(spec) + "': ";
  auto fail = [&](const std::string& why) { throw std::invalid_argument(shown + why); };
  auto eq = spec.find('=');
  if (eq == 0)
    fail("name missing before '='");
  if (eq == std::string::npos || eq + 1 == spec.size())
    fail("expected TYPE=/path/to/program [ARG...]");
  exec_spec e{spec.substr(0, eq), {}};
  try {
    e.argv = split_command_line(spec.substr(eq + 1));
  } catch (const std::invalid_argument& why) {
    fail(why.what());
  }
  if (e.argv[0].empty())
    fail("empty program path");
  if (access(e.argv[0].c_str(), X_OK) != 0)
    fail(one_line(e.argv[0]) + " is not an executable file");
  return e;
}

} // namespace leasehold
