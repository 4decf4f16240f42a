#pragma once
// `query --names` and `stat --names`: the reverse DNS names of the addresses they print, from
// enrich's IP-info table of the data directory (DATADIR/ipinfo.tsv, what `flowscope serve` and
// `flowscope ipinfo refresh` fill; docs/enrich.md) and, for an address it does not know, one PTR
// query through enrich's ReverseDns (the resolver `serve` uses), waited for up to the timeout.
// The waits of one run share that timeout as a budget: once it is spent (a silent or slow
// server), the remaining unknown addresses print as addresses and stderr says so once, so that
// --names never makes a long output wait per row. Answers are kept for the rest of the run; the
// file is not written. Main thread only.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/field_format.h"
#include "enrich/ip_info_table.h"
#include "enrich/reverse_dns.h"

namespace flowscope::cli {

class DnsAddressNames : public AddressNames {
 public:
  // `table_file` may not exist (no names yet); `servers` "host:port", empty = the system's.
  // Throws UserError on a table that cannot be read or a resolver that cannot start.
  DnsAddressNames(const std::filesystem::path& table_file, std::vector<std::string> servers,
                  std::chrono::milliseconds timeout);
  ~DnsAddressNames() override;
  std::string name(const IpAddress& address) const override;

 private:
  mutable enrich::IpInfoTable table_;
  std::unique_ptr<enrich::ReverseDns> dns_;
  std::chrono::milliseconds timeout_;
  mutable std::chrono::steady_clock::duration waited_{};
  mutable bool warned_ = false;
};

}  // namespace flowscope::cli
