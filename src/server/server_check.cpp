// Server::check: what start() verifies before it opens the store or binds a port, also run by
// `flowscope serve --check` (F15: a configuration --check passes must not fail at start).
#include <filesystem>

#include <fmt/format.h>
#include <unistd.h>

#include "server/server.h"
#include "store/checkpoint.h"

namespace flowscope::server {
namespace {

namespace fs = std::filesystem;

// The data directory: a directory, or creatable (its nearest existing parent is a writable
// directory). Opening the store checks the rest (the lock, the WAL) and cannot run beside a
// running server, so only the checkpoint is read here.
Result<void> check_store_dir(const ServerConfig& config) {
  const fs::path& dir = config.store.dir;
  const std::string where = config.where("store.dir");
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("{}: [store] dir \"{}\" is not a directory; point it at the data "
                               "directory (it is created when missing)",
                               where, dir.string())};
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("{}: [store] dir \"{}\" is not writable by this user; fix its "
                               "permissions or run as its owner",
                               where, dir.string())};
    }
    auto cp = store::read_checkpoint(dir / store::kCheckpointFile);
    if (!cp)
      return Error{cp.error().code, fmt::format("{}: [store] dir: {}", where, cp.error().message)};
    return {};
  }
  fs::path parent = fs::absolute(dir, ec).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.root_path()) {
    parent = parent.parent_path();
  }
  if (!fs::is_directory(parent, ec) || ::access(parent.c_str(), W_OK | X_OK) != 0) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{}: [store] dir \"{}\" cannot be created: {} is not a writable "
                             "directory; create the data directory or choose another path",
                             where, dir.string(), parent.string())};
  }
  return {};
}

bool wildcard(const std::string& address) { return address == "0.0.0.0" || address == "::"; }

// The query and HTTP listeners are both TCP: the same port on addresses that overlap cannot be
// bound twice. ("::" binds IPv6 only, so it overlaps only IPv6 addresses and itself.)
Result<void> check_listeners(const ServerConfig& config) {
  const ListenerConfig& q = config.query;
  const ListenerConfig& h = config.http;
  if (q.port == 0 || q.port != h.port) return {};
  const auto qa = IpAddress::parse(q.address);
  const auto ha = IpAddress::parse(h.address);
  const bool same_family = qa && ha && qa->is_v4() == ha->is_v4();
  if (q.address == h.address || (same_family && (wildcard(q.address) || wildcard(h.address)))) {
    return Error{
        ErrorCode::InvalidArgument,
        fmt::format("{}: [http] port {} is also the [query] port on {} ({}); give them "
                    "different ports",
                    config.where("http.port"), h.port, q.address, config.where("query.port"))};
  }
  return {};
}

}  // namespace

Result<void> Server::check(const ServerConfig& config) {
  if (auto r = check_listeners(config); !r) return r;
  if (auto r = check_store_dir(config); !r) return r;
  // The enrichment files, loaded as start() loads them (into a server that is then dropped).
  Server probe{ServerOptions{}};
  if (auto r = probe.load_enrichment(config); !r) return r;
  // The users file (a missing one is an empty user list, as at start).
  if (auto users = UserDb::load(config.users_path()); !users) {
    return Error{users.error().code,
                 fmt::format("{}: {}", config.where("auth.users"), users.error().message)};
  }
  return {};
}

}  // namespace flowscope::server
