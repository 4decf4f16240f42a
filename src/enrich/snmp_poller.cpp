#include "enrich/snmp_poller.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

namespace flowscope::enrich {
namespace {

// IF-MIB columns (RFC 2863), indexed by ifIndex.
const oid kIfDescr[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 2};
const oid kIfSpeed[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 5};
const oid kIfName[] = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1};
const oid kIfHighSpeed[] = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15};
const oid kIfAlias[] = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18};

// net-snmp's library state is global: initialise it once, without reading configuration or
// MIB files (we use numeric OIDs only) and without persistent state.
void init_net_snmp() {
  static std::once_flag once;
  std::call_once(once, [] {
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    ::setenv("MIBS", "", 0);
    netsnmp_set_mib_directory("");
    snmp_disable_log();
    init_snmp("flowscope");
  });
}

// The agent's net-snmp peer name ("udp:host:port" / "udp6:[v6]:port").
std::string peer_name(const SnmpTarget& t) {
  std::string agent = t.agent.empty() ? t.exporter.to_string() : t.agent;
  if (agent.find(':') != std::string::npos && agent.front() != '[' &&
      agent.find(':') != agent.rfind(':')) {
    agent = "[" + agent + "]";  // a bare IPv6 address
  }
  const bool v6 = agent.front() == '[';
  const bool has_port =
      v6 ? agent.find("]:") != std::string::npos : agent.find(':') != std::string::npos;
  return (v6 ? "udp6:" : "udp:") + agent + (has_port ? "" : ":161");
}

struct Column {
  const oid* prefix;
  std::size_t length;
};

// Walks one table column with GETBULK; calls on_value(ifIndex, var) for each row.
template <typename OnValue>
Result<void> walk(void* session, const Column& column, int repetitions, OnValue on_value) {
  std::vector<oid> next(column.prefix, column.prefix + column.length);
  for (int guard = 0; guard < 100000; ++guard) {
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
    pdu->non_repeaters = 0;
    pdu->max_repetitions = repetitions;
    snmp_add_null_var(pdu, next.data(), next.size());
    netsnmp_pdu* response = nullptr;
    const int status = snmp_sess_synch_response(session, pdu, &response);
    if (status != STAT_SUCCESS || response == nullptr) {
      char* text = nullptr;
      int liberr = 0, syserr = 0;
      snmp_sess_error(session, &liberr, &syserr, &text);
      std::string message = text != nullptr ? text : "no answer";
      std::free(text);
      if (response != nullptr) snmp_free_pdu(response);
      return Error{ErrorCode::Io, message};
    }
    if (response->errstat != SNMP_ERR_NOERROR) {
      std::string message = snmp_errstring(static_cast<int>(response->errstat));
      snmp_free_pdu(response);
      return Error{ErrorCode::Io, "agent error: " + message};
    }
    bool done = response->variables == nullptr;
    for (netsnmp_variable_list* v = response->variables; v != nullptr; v = v->next_variable) {
      const bool inside = v->name_length == column.length + 1 &&
                          std::equal(column.prefix, column.prefix + column.length, v->name);
      if (!inside || v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT ||
          v->type == SNMP_NOSUCHINSTANCE) {
        done = true;
        break;
      }
      on_value(static_cast<std::uint32_t>(v->name[column.length]), *v);
      next.assign(v->name, v->name + v->name_length);
    }
    snmp_free_pdu(response);
    if (done) return ok();
  }
  return Error{ErrorCode::Malformed, "the agent's table does not end"};
}

std::string octets(const netsnmp_variable_list& v) {
  if (v.type != ASN_OCTET_STR || v.val.string == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(v.val.string), v.val_len);
}

std::uint64_t number(const netsnmp_variable_list& v) {
  if (v.val.integer == nullptr) return 0;
  return static_cast<std::uint32_t>(*v.val.integer);
}

}  // namespace

struct SnmpPoller::State {
  SnmpConfig config;
  InterfaceTable& table;
  mutable std::mutex mutex;
  std::condition_variable cv;
  bool stop = false;
  SnmpStats stats;  // GUARDED_BY(mutex)
  std::thread thread;
  std::mutex poll_mutex;  // one poll at a time

  State(SnmpConfig c, InterfaceTable& t) : config(std::move(c)), table(t) {}

  // Polls one agent; the interfaces it names, or why not.
  Result<std::vector<InterfaceUpdate>> poll(const SnmpTarget& target) {
    snmp_session settings;
    snmp_sess_init(&settings);
    const std::string peer = peer_name(target);
    std::string community = target.community;
    settings.peername = const_cast<char*>(peer.c_str());
    settings.version = SNMP_VERSION_2c;
    settings.community = reinterpret_cast<u_char*>(community.data());
    settings.community_len = community.size();
    settings.timeout = static_cast<long>(config.timeout.count()) * 1000;
    settings.retries = config.retries;
    void* session = snmp_sess_open(&settings);
    if (session == nullptr) {
      return Error{ErrorCode::Io, fmt::format("SNMP agent {}: cannot open a session", peer)};
    }
    std::map<std::uint32_t, InterfaceInfo> found;
    auto column = [&](const oid* prefix, std::size_t len, auto apply) {
      return walk(
          session, Column{prefix, len}, config.bulk_repetitions,
          [&](std::uint32_t index, const netsnmp_variable_list& v) { apply(found[index], v); });
    };
    Result<void> r = column(kIfName, std::size(kIfName),
                            [](InterfaceInfo& i, const auto& v) { i.name = octets(v); });
    if (r) {
      r = column(kIfDescr, std::size(kIfDescr),
                 [](InterfaceInfo& i, const auto& v) { i.description = octets(v); });
    }
    if (r) {  // ifAlias, the operator's description, wins over the vendor's ifDescr
      r = column(kIfAlias, std::size(kIfAlias), [](InterfaceInfo& i, const auto& v) {
        if (std::string alias = octets(v); !alias.empty()) i.description = std::move(alias);
      });
    }
    if (r) {
      r = column(kIfSpeed, std::size(kIfSpeed),
                 [](InterfaceInfo& i, const auto& v) { i.speed_bps = number(v); });
    }
    if (r) {  // Mb/s; beyond 4 Gb/s ifSpeed saturates at 2^32-1
      r = column(kIfHighSpeed, std::size(kIfHighSpeed), [](InterfaceInfo& i, const auto& v) {
        if (std::uint64_t mbps = number(v); mbps != 0) i.speed_bps = mbps * 1'000'000;
      });
    }
    snmp_sess_close(session);
    if (!r) return Error{r.error().code, fmt::format("SNMP agent {}: {}", peer, r.error().message)};
    std::vector<InterfaceUpdate> updates;
    const TimeMs now = time_from_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    for (auto& [index, info] : found) {
      info.source = InterfaceSource::Snmp;
      info.updated = now;
      updates.push_back(InterfaceUpdate{target.exporter, index, std::move(info)});
    }
    return updates;
  }
};

Result<std::unique_ptr<SnmpPoller>> SnmpPoller::create(SnmpConfig config, InterfaceTable& table) {
  for (const SnmpTarget& t : config.targets) {
    if (t.community.empty()) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("SNMP target {}: empty community", t.exporter.to_string())};
    }
  }
  if (config.bulk_repetitions < 1) config.bulk_repetitions = 1;
  init_net_snmp();
  return std::unique_ptr<SnmpPoller>(
      new SnmpPoller(std::make_unique<State>(std::move(config), table)));
}

SnmpPoller::SnmpPoller(std::unique_ptr<State> state) : state_(std::move(state)) {}

SnmpPoller::~SnmpPoller() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

std::size_t SnmpPoller::poll_once() {
  std::lock_guard poll_lock(state_->poll_mutex);
  std::size_t changed = 0;
  for (const SnmpTarget& target : state_->config.targets) {
    auto updates = state_->poll(target);
    std::lock_guard lock(state_->mutex);
    ++state_->stats.polls;
    if (!updates) {
      ++state_->stats.failures;
      state_->stats.last_error = updates.error().message;
      continue;
    }
    state_->stats.interfaces = updates->size();
    changed += state_->table.update(*updates);
  }
  return changed;
}

void SnmpPoller::start() {
  if (state_->thread.joinable()) return;
  state_->thread = std::thread([this] {
    std::unique_lock lock(state_->mutex);
    while (!state_->stop) {
      lock.unlock();
      poll_once();
      lock.lock();
      state_->cv.wait_for(lock, state_->config.interval, [this] { return state_->stop; });
    }
  });
}

SnmpStats SnmpPoller::stats() const {
  std::lock_guard lock(state_->mutex);
  return state_->stats;
}

}  // namespace flowscope::enrich
