#pragma once
// What `flowscope query` and `flowscope stat` share: the options of FlowTraq's ftsq/ftstat that
// both take (data directory, time window, filter, output format, zone, IP groups), turning them
// into a query::Selection, opening the store read-only, progress on a terminal and Ctrl-C.
// Main thread only (the SIGINT handler only stores into an atomic flag).

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/server_login.h"
#include "query/executor.h"
#include "query/output.h"
#include "store/embedded_store.h"

namespace flowscope::cli {

struct CommonQueryOptions {
  std::string dir;
  std::string time = "15m";
  std::string now;  // for tests and replays: the clock
  std::string zone = "UTC";
  std::string filter_option;
  std::vector<std::string> filter_words;  // positional
  std::string nfdump_filter;
  std::string groups_file;
  bool names = false;            // --names: reverse DNS names instead of addresses
  std::vector<std::string> dns;  // --dns HOST:PORT for --names; empty = the system's
  bool csv = false;
  bool csv_header = false;
  bool json = false;
  std::string output;  // -o table|csv|csv+|json|fmt:...
  bool progress = false;
  bool no_progress = false;
  bool explain = false;
  unsigned threads = 0;  // scan threads (0: one per hardware thread)
  ServerLogin server;    // -srv: run on a flowscope server (cli/remote_query.h)
};

// Adds the shared options to `cmd`.
void add_common_query_options(CLI::App& cmd, CommonQueryOptions& opt);

// Everything the options resolve to. Throws UserError naming the option and the fix.
struct ResolvedQuery {
  query::Selection where;
  query::ExecOptions exec;
  query::OutputOptions output;
  // The embedded store of -d DATADIR, or a ClickHouse cluster of -d clickhouse://...
  std::unique_ptr<store::Backend> store;
  std::shared_ptr<void> keep_alive;     // what exec.filter.groups refers to
  std::shared_ptr<AddressNames> names;  // what output.field.names refers to (--names)
  std::string filter_text;              // for error messages
  std::int64_t now_ms = 0;              // the clock -t was resolved against
  std::int64_t raw_keep_ms = 0;         // the embedded store's raw retention; 0 = none
};
ResolvedQuery resolve_common(const CommonQueryOptions& opt);

// When the window begins before the store's raw retention reaches (now - keep raw), says on
// stderr which part of the window has no raw sessions, so that an answer read from raw rows is
// never taken for the whole window. `source` is the store's source of the answer ("raw", or a
// rollup's name): a rollup answer covers what the rollup keeps and gets no note.
// Returns that part (nullopt when nothing is missing); raw_retention_gap only computes it.
std::optional<query::MissingRange> note_raw_retention(const ResolvedQuery& q,
                                                      std::string_view source);
std::optional<query::MissingRange> raw_retention_gap(const ResolvedQuery& q,
                                                     std::string_view source);

// A Result's error as a UserError: filter errors rendered with a caret.
[[noreturn]] void throw_query_error(const Error& e, const ResolvedQuery& q);

// Installs the SIGINT handler that cancels `token` while alive; restores the old one after.
class CancelOnInterrupt {
 public:
  explicit CancelOnInterrupt(const query::CancelToken& token);
  ~CancelOnInterrupt();
  CancelOnInterrupt(const CancelOnInterrupt&) = delete;
  CancelOnInterrupt& operator=(const CancelOnInterrupt&) = delete;
};

// FlowTraq's single-dash long options (-grp, -cnt, -snd, -rcv, -c+, -gx, -gy) as CLI11 reads
// them (--grp, ...), in the arguments of the query and stat subcommands only. argv[0] first.
std::vector<std::string> flowtraq_style_args(int argc, char** argv);

}  // namespace flowscope::cli
