#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "runtime/handler_registry.hpp"

/// `--exec TYPE='/path/prog --flag arg'`: the command line of an external
/// program, and the handler that runs it with its argv.
namespace leasehold {

/// Splits `text` into words on spaces. 'single' and "double" quotes group
/// words with spaces (no escapes inside; a quote ends at the next same
/// quote); quoted and bare parts next to each other join into one word.
/// No shell: no globbing, no variables, no backslash escapes. Throws
/// std::invalid_argument (one line) on an unbalanced quote, a control
/// character (tab and newline included) or no words at all.
std::vector<std::string> split_command_line(const std::string& text);

/// One --exec: the job type and the program's argv.
struct exec_spec {
  std::string type;
  std::vector<std::string> argv;
};

/// Parses `TYPE=/path/to/program [ARG...]` and checks that the program is
/// an executable file. Throws std::invalid_argument: one line naming --exec,
/// with any control character of the spec shown as a space.
exec_spec parse_exec_spec(const std::string& spec);

/// make_exec_handler() for a program with arguments: argv[0] is the path
/// of the program (not looked up in PATH), the rest its arguments. The
/// program's environment also holds the job: LEASEHOLD_JOB_ID,
/// LEASEHOLD_ATTEMPT, LEASEHOLD_MAX_ATTEMPTS, LEASEHOLD_TYPE, LEASEHOLD_QUEUE,
/// LEASEHOLD_TRACE_ID, LEASEHOLD_CORRELATION_ID and LEASEHOLD_WORKER_ID.
handler_fn make_exec_handler(std::vector<std::string> argv,
                             std::chrono::milliseconds timeout,
                             std::vector<std::string> pass_env = {});

} // namespace leasehold
