#pragma once

#include <string>
#include <vector>

/// Certificates for TLS cluster tests, made with the openssl command: a CA
/// of the cluster, certificates it signed, and a rogue CA with a
/// certificate of its own (valid, but not the cluster's).
namespace leasehold::test {

class test_pki {
public:
  /// Makes a CA and the certificates of `names` (plus "rogue", signed by
  /// another CA) in a fresh directory under /tmp.
  explicit test_pki(const std::vector<std::string>& names);
  std::string ca() const { return dir_ + "/ca.pem"; }
  std::string cert(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + ".key"; }
  /// --cluster-cert/--cluster-key/--cluster-ca for `name` (the rogue one
  /// presents the cluster's CA as its own CA, as an attacker would).
  std::vector<std::string> node_flags(const std::string& name) const;

private:
  void shell(const std::string& script) const;
  std::string dir_;
};

} // namespace leasehold::test
