// Security defaults, against the real `leasehold` binary: reads behind a
// token, secrets from files, no secret in logs or in the environment of
// external programs, and a loopback default bind.
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/pg_fixture.hpp"
#include "tests/support/process.hpp"

using namespace leasehold;
using namespace leasehold::test;
using namespace std::chrono_literals;

namespace {

using env_map = std::map<std::string, std::string>;

constexpr const char* write_token = "w-token-5f1e9a";
constexpr const char* read_token = "r-token-83c2d0";
constexpr const char* password = "pw-hunter2-77ab";

std::string tmp(const std::string& name) {
  return "/tmp/leasehold-sec-" + std::to_string(getpid()) + "-" + name;
}

std::string write_file(const std::string& name, const std::string& text) {
  auto path = tmp(name);
  std::ofstream{path} << text;
  return path;
}

std::string read_all(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The test URL with a password; trust auth ignores it, so it still connects.
std::string url_with_password(const std::string& url = test_dsn()) {
  auto at = url.find('@');
  return url.substr(0, at) + ":" + password + url.substr(at);
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

struct node_process {
  std::unique_ptr<background_process> proc;
  std::unique_ptr<httplib::Client> http;

  node_process(std::vector<std::string> extra, const env_map& env,
               const std::string& listen = "127.0.0.1:0") {
    std::vector<std::string> args = {leasehold_bin(), "node", "--poll-interval", "100ms",
                                     "--http-listen", listen, "--log-level", "debug"};
    args.insert(args.end(), extra.begin(), extra.end());
    static int n = 0;
    proc = std::make_unique<background_process>(args, tmp("node" + std::to_string(++n) + ".log"), env);
    BOOST_REQUIRE_MESSAGE(wait_until([&] { return !address().empty(); }, 15s), proc->log());
    auto a = address();
    auto colon = a.rfind(':');
    http = std::make_unique<httplib::Client>("127.0.0.1", std::stoi(a.substr(colon + 1)));
  }

  ~node_process() {
    proc->signal(SIGTERM);
    proc->wait(10000);
  }

  // From the log: where the bridge listens.
  std::string address() const {
    std::istringstream lines{proc->log()};
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("msg", "") == "http listening")
        return j.value("address", "");
    }
    return "";
  }

  httplib::Result get(const std::string& path, const std::string& bearer = "") {
    httplib::Headers h;
    if (!bearer.empty())
      h.emplace("Authorization", "Bearer " + bearer);
    return http->Get(path.c_str(), h);
  }

  httplib::Result post(const std::string& path, const std::string& body,
                       const std::string& bearer) {
    httplib::Headers h;
    if (!bearer.empty())
      h.emplace("Authorization", "Bearer " + bearer);
    return http->Post(path.c_str(), h, body, "application/json");
  }
};

// A JSON error answer with this status.
void json_error(const httplib::Result& res, int status, const std::string& path) {
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == status, path << " -> " << res->status << " " << res->body);
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  BOOST_TEST((!j.is_discarded() && j.contains("error")), path << ": " << res->body);
}

const std::vector<std::string> guarded_reads = {
  "/health", "/workers", "/dead-jobs", "/jobs?correlation_id=x", "/jobs/1", "/runs", "/runs/1"};

} // namespace

BOOST_FIXTURE_TEST_SUITE(security, pg_fixture)

BOOST_AUTO_TEST_CASE(with_a_read_token_reads_need_it_but_livez_and_metrics_stay_open) {
  node_process n{{"--http-read-token", read_token},
                 {{"DATABASE_URL", test_dsn()}, {"LEASEHOLD_HTTP_TOKEN", write_token}}};
  auto live = n.get("/livez");
  BOOST_REQUIRE(live);
  BOOST_TEST(live->status == 200);
  BOOST_TEST(nlohmann::json::parse(live->body) == nlohmann::json({{"status", "ok"}}));
  auto metrics = n.get("/metrics");
  BOOST_REQUIRE(metrics);
  BOOST_TEST(metrics->status == 200);
  for (const auto& path : guarded_reads) {
    json_error(n.get(path), 401, path);
    json_error(n.get(path, "wrong"), 403, path);
    json_error(n.get(path, std::string{read_token} + "x"), 403, path);
    for (const char* good : {read_token, write_token}) {
      auto res = n.get(path, good);
      BOOST_REQUIRE(res);
      BOOST_TEST((res->status != 401 && res->status != 403), path << " " << res->status);
    }
  }
  BOOST_TEST(n.get("/health", read_token)->status == 200);
  auto head = n.http->Head("/health");
  BOOST_REQUIRE(head);
  BOOST_TEST(head->status == 401); // HEAD runs the GET handler: guarded too
  // The CLI's --url sends the read token from its environment.
  auto url = "http://" + n.address();
  auto denied = run({leasehold_bin(), "health", "--url", url});
  BOOST_TEST(contains(denied.err, "HTTP 401"), denied.err);
  auto health = run({leasehold_bin(), "health", "--url", url},
                    {{"LEASEHOLD_HTTP_READ_TOKEN", read_token}});
  BOOST_TEST(contains(health.out, "status:"), health.out << health.err);
  // The read token does not write.
  json_error(n.post("/jobs", R"({"type":"noop"})", read_token), 403, "POST /jobs");
  BOOST_TEST(count("SELECT count(*) FROM leasehold.all_jobs") == 0);
}

BOOST_AUTO_TEST_CASE(without_a_read_token_reads_stay_open) {
  node_process n{{}, {{"DATABASE_URL", test_dsn()}}};
  BOOST_TEST(n.get("/health")->status == 200);
  BOOST_TEST(n.get("/livez")->status == 200);
}

BOOST_AUTO_TEST_CASE(a_node_runs_on_secrets_from_files_with_none_in_its_argv) {
  auto url_file = write_file("url", url_with_password() + "\n");
  auto token_file = write_file("token", std::string{write_token} + "\n");
  auto read_file = write_file("read", std::string{read_token} + "\n");
  node_process n{{"--database-url-file", url_file, "--http-token-file", token_file,
                  "--http-read-token-file", read_file},
                 {}};
  auto argv = read_all("/proc/" + std::to_string(n.proc->pid()) + "/cmdline");
  BOOST_TEST(contains(argv, "--http-token-file"));
  for (const char* secret : {write_token, read_token, password})
    BOOST_TEST(!contains(argv, secret), secret);
  BOOST_TEST(n.get("/health", read_token)->status == 200);
  auto created = n.post("/jobs", R"({"type":"noop"})", write_token);
  BOOST_REQUIRE(created);
  BOOST_TEST(created->status == 201, created->body);
  BOOST_TEST(wait_until([&] { return succeeded() == 1; }, 10s));
  // A CLI command, too, and the read token from the environment.
  auto r = run({leasehold_bin(), "workers", "--database-url-file", url_file});
  BOOST_TEST(r.exit_code == 0, r.err);
  node_process env_node{{},
                        {{"DATABASE_URL", test_dsn()}, {"LEASEHOLD_HTTP_READ_TOKEN", read_token}}};
  BOOST_TEST(env_node.get("/health")->status == 401);
  BOOST_TEST(env_node.get("/health", read_token)->status == 200);
}

BOOST_AUTO_TEST_CASE(an_unreadable_or_empty_secret_file_stops_before_anything_starts) {
  auto empty = write_file("empty", "\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"node", "--http-token-file", tmp("missing")},
         {"node", "--http-read-token-file", empty},
         {"workers", "--database-url-file", tmp("missing")},
         {"node", "--database-url-file", empty}}) {
    std::vector<std::string> argv = {leasehold_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv, {{"DATABASE_URL", test_dsn()}});
    BOOST_TEST(r.exit_code == 2, args[1] << " exit " << r.exit_code << " " << r.err);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
    BOOST_TEST(contains(r.err, args[1].substr(2)), r.err);
  }
  BOOST_TEST(count("SELECT count(*) FROM leasehold.worker_instances") == 0);
}

BOOST_AUTO_TEST_CASE(no_password_or_token_appears_in_any_log_line_or_error) {
  std::string log;
  {
    node_process n{{}, {{"DATABASE_URL", url_with_password()}, {"LEASEHOLD_HTTP_TOKEN", write_token},
                        {"LEASEHOLD_HTTP_READ_TOKEN", read_token}}};
    n.get("/health", "wrong-token");
    n.get("/health");
    n.get("/dead-jobs?limit=abc", read_token);
    n.post("/jobs", R"({"type":"noop"})", std::string{write_token} + "-nope");
    n.post("/jobs", "{not json", write_token);
    n.post("/jobs", R"({"type":"fail","payload":{"message":"boom"},"max_attempts":1})",
           write_token);
    wait_until([&] { return count("SELECT count(*) FROM leasehold.all_jobs WHERE status = 'failed'") == 1; }, 10s);
    n.proc->signal(SIGTERM);
    n.proc->wait(10000);
    log = n.proc->log();
  }
  BOOST_TEST(contains(log, "http listening"));
  // CLI commands against an unreachable database, URL and key/value forms.
  auto unreachable = url_with_password("postgresql://postgres@127.0.0.1:1/leasehold");
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"workers", "--database-url", unreachable},
         {"migrate", "--database-url", "host=127.0.0.1 port=1 password=" + std::string{password}},
         {"job", "1", "--database-url", unreachable},
         {"node", "--database-url", unreachable, "--http-token", write_token}}) {
    std::vector<std::string> argv = {leasehold_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv);
    BOOST_TEST(r.exit_code != 0, args[0]);
    BOOST_TEST(!r.err.empty(), args[0]);
    log += r.out + r.err;
  }
  for (const char* secret : {password, write_token, read_token})
    BOOST_TEST(!contains(log, secret), secret << " in: " << log.substr(0, 3000));
}

BOOST_AUTO_TEST_CASE(external_programs_see_secrets_only_when_passed_explicitly) {
  auto script = [](const std::string& name, const std::string& out) {
    auto path = write_file(name, "#!/bin/sh\nenv > " + out + ".tmp && mv " + out + ".tmp " + out + "\n");
    chmod(path.c_str(), 0755);
    return path;
  };
  auto seen1 = tmp("env1"), seen2 = tmp("env2");
  unlink(seen1.c_str());
  unlink(seen2.c_str());
  env_map env = {{"DATABASE_URL", url_with_password()}, {"LEASEHOLD_HTTP_TOKEN", write_token},
                 {"LEASEHOLD_HTTP_READ_TOKEN", read_token}, {"PGPASSWORD", password},
                 {"LEASEHOLD_SEC_HARMLESS", "visible"}};
  enqueue(db, "dump1");
  {
    node_process n{{"--exec", "dump1=" + script("dump1.sh", seen1)}, env};
    BOOST_REQUIRE(wait_until([&] { return access(seen1.c_str(), F_OK) == 0; }, 10s));
  }
  auto text = read_all(seen1);
  BOOST_TEST(contains(text, "LEASEHOLD_SEC_HARMLESS=visible"));
  for (const char* name : {"DATABASE_URL=", "LEASEHOLD_HTTP_TOKEN=", "LEASEHOLD_HTTP_READ_TOKEN=",
                           "PGPASSWORD="})
    BOOST_TEST(!contains(text, name), name);
  for (const char* secret : {password, write_token, read_token})
    BOOST_TEST(!contains(text, secret), secret);

  enqueue(db, "dump2");
  {
    node_process n{{"--exec", "dump2=" + script("dump2.sh", seen2), "--exec-env-pass",
                    "PGPASSWORD", "--exec-env-pass", "DATABASE_URL"},
                   env};
    BOOST_REQUIRE(wait_until([&] { return access(seen2.c_str(), F_OK) == 0; }, 10s));
  }
  text = read_all(seen2);
  BOOST_TEST(contains(text, std::string{"PGPASSWORD="} + password));
  BOOST_TEST(contains(text, "DATABASE_URL="));
  BOOST_TEST(!contains(text, "LEASEHOLD_HTTP_TOKEN="));
  BOOST_TEST(!contains(text, "LEASEHOLD_HTTP_READ_TOKEN="));
}

BOOST_AUTO_TEST_CASE(the_default_bind_is_loopback_and_a_public_bind_warns) {
  auto help = run({leasehold_bin(), "node", "--help"});
  BOOST_TEST(help.exit_code == 0);
  auto at = help.out.find("--http-listen");
  BOOST_REQUIRE(at != std::string::npos);
  auto line = help.out.substr(at, help.out.find('\n', at) - at);
  BOOST_TEST(contains(line, "127.0.0.1:8080"), line);
  BOOST_TEST(defaults::http_listen == std::string{"127.0.0.1:8080"});

  node_process quiet{{}, {{"DATABASE_URL", test_dsn()}}};
  BOOST_TEST(!contains(quiet.proc->log(), "reachable from other hosts"));
  node_process open{{}, {{"DATABASE_URL", test_dsn()}}, "0.0.0.0:0"};
  BOOST_TEST(wait_until([&] { return contains(open.proc->log(), "reachable from other hosts"); }, 2s),
             open.proc->log());
}

BOOST_AUTO_TEST_SUITE_END()
