#include "tests/support/test_pki.hpp"

#include <unistd.h>

#include <stdexcept>

#include "tests/support/process.hpp"

namespace leasehold::test {

namespace {

// A key and a certificate request for `name`, signed by CA `ca`.
std::string signed_cert(const std::string& name, const std::string& ca) {
  return "openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name
         + ".csr -subj /CN=" + name + " 2>/dev/null && openssl x509 -req -in " + name
         + ".csr -CA " + ca + ".pem -CAkey " + ca + ".key -CAcreateserial -out " + name
         + ".pem -days 2 2>/dev/null\n";
}

std::string new_ca(const std::string& name) {
  return "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name
         + ".pem -days 2 -subj /CN=" + name + " 2>/dev/null\n";
}

} // namespace

test_pki::test_pki(const std::vector<std::string>& names) {
  char tmpl[] = "/tmp/leasehold-pki-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("cannot make a directory for test certificates");
  dir_ = tmpl;
  std::string script = "set -e\ncd " + dir_ + "\n" + new_ca("ca") + new_ca("rogue-ca");
  for (const auto& n : names)
    script += signed_cert(n, "ca");
  script += signed_cert("rogue", "rogue-ca");
  shell(script);
}

std::vector<std::string> test_pki::node_flags(const std::string& name) const {
  return {"--cluster-cert", cert(name), "--cluster-key", key(name), "--cluster-ca", ca()};
}

void test_pki::shell(const std::string& script) const {
  auto r = run({"/bin/sh", "-c", script});
  if (r.exit_code != 0)
    throw std::runtime_error("openssl failed making test certificates: " + r.err);
}

} // namespace leasehold::test
