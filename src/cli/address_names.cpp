#include "cli/address_names.h"

#include <iostream>

#include "cli/commands.h"
#include "core/log.h"

namespace flowscope::cli {

DnsAddressNames::DnsAddressNames(const std::filesystem::path& table_file,
                                 std::vector<std::string> servers,
                                 std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  if (!table_file.empty() && std::filesystem::exists(table_file)) {
    if (auto r = table_.load(table_file); !r) throw UserError{"--names: " + r.error().message};
  }
  enrich::ReverseDnsConfig cfg;
  cfg.servers = std::move(servers);
  cfg.timeout = timeout;
  cfg.tries = 1;
  auto dns = enrich::ReverseDns::start(std::move(cfg), table_);
  if (!dns) throw UserError{"--dns: " + dns.error().message, kExitUsage};
  dns_ = std::move(*dns);
}

DnsAddressNames::~DnsAddressNames() { dns_.reset(); }  // before the table it writes into

std::string DnsAddressNames::name(const IpAddress& address) const {
  auto info = table_.get(address);
  if (!info || info->state == enrich::NameState::New || info->state == enrich::NameState::Queued) {
    if (waited_ >= timeout_) {
      if (!warned_) {
        const std::string message =
            "--names: the DNS server answers too slowly; addresses without a known name are "
            "printed as addresses (flowscope ipinfo refresh fills the names ahead)";
        log_always(spdlog::level::warn, "enrich", "flowscope: " + message, message);
        warned_ = true;
      }
      return {};
    }
    // Not known yet: ask once and wait for this answer (output is written in order).
    const auto start = std::chrono::steady_clock::now();
    dns_->request(address);
    dns_->wait_idle(timeout_ + std::chrono::milliseconds(200));
    waited_ += std::chrono::steady_clock::now() - start;
    info = table_.get(address);
  }
  if (info && info->state == enrich::NameState::Resolved) return info->name;
  return {};
}

}  // namespace flowscope::cli
