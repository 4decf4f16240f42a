#pragma once
// Test certificates made with the OpenSSL API (no `openssl` binary needed): a self-signed P-256
// certificate for 127.0.0.1 and localhost, written as PEM files into a directory.

#include <filesystem>
#include <string>

namespace flowscope::testing {

struct TestCert {
  std::filesystem::path cert;  // PEM certificate (self-signed: it is its own CA)
  std::filesystem::path key;   // PEM private key
};

// Writes <dir>/<name>.crt and <dir>/<name>.key; the certificate's subject is CN=<name> and its
// subjectAltName IP:127.0.0.1, DNS:localhost. Fails the current test on an OpenSSL error.
TestCert make_self_signed(const std::filesystem::path& dir, const std::string& name);

}  // namespace flowscope::testing
