#include "server/test_certs.h"

#include <cstdio>
#include <memory>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace flowscope::testing {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

}  // namespace

TestCert make_self_signed(const std::filesystem::path& dir, const std::string& name) {
  TestCert out{dir / (name + ".crt"), dir / (name + ".key")};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  EXPECT_NE(pkey, nullptr);
  std::unique_ptr<X509, decltype(&X509_free)> x509(X509_new(), &X509_free);
  X509_set_version(x509.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 86400L);
  X509_set_pubkey(x509.get(), pkey.get());
  X509_NAME* subject = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x509.get(), subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x509.get(), x509.get(), nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  EXPECT_NE(san, nullptr);
  X509_add_ext(x509.get(), san, -1);
  X509_EXTENSION_free(san);
  EXPECT_GT(X509_sign(x509.get(), pkey.get(), EVP_sha256()), 0);

  std::unique_ptr<FILE, FileCloser> cert_file(std::fopen(out.cert.c_str(), "w"));
  std::unique_ptr<FILE, FileCloser> key_file(std::fopen(out.key.c_str(), "w"));
  EXPECT_TRUE(cert_file && key_file);
  EXPECT_EQ(PEM_write_X509(cert_file.get(), x509.get()), 1);
  EXPECT_EQ(PEM_write_PrivateKey(key_file.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr),
            1);
  return out;
}

}  // namespace flowscope::testing
