// `flowscope import -d DATADIR FILE...`: loads flow files into the embedded store: CSV with a
// header of registry names, flow-tools files and nfdump 1.7's nfcapd files (read natively;
// `--format nfdump` still reads them through nfdump's CSV output). One-way flows become one-sided
// sessions (client = source) until the stitcher (F4) does better. Progress on stderr, a summary of
// what was imported and what was skipped and why on stdout.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <ext/stdio_filebuf.h>
#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands.h"
#include "store/csv_import.h"
#include "store/embedded_store.h"
#include "store/flowtools_reader.h"
#include "store/nfcapd_reader.h"

namespace flowscope::cli {
namespace {

constexpr std::size_t kImportBatchRows = 65536;

struct ImportOptions {
  std::string dir;
  std::vector<std::string> files;
  std::string format = "auto";
};

void progress(const std::string& file, std::uint64_t records, bool tty) {
  if (tty) std::cerr << "\rimporting " << file << ": " << records << " records" << std::flush;
}

bool looks_like_nfcapd(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {};
  in.read(magic, 2);
  return store::is_nfcapd_magic(std::string_view(magic, static_cast<std::size_t>(in.gcount())));
}

// `--format nfdump`: nfcapd files read through nfdump itself, the fallback to the native reader
// for what it refuses (nfdump 1.6 files, which nfdump 1.7 still reads): nfdump prints the fields
// of store::kNfdumpCsvFormat as CSV, imported with flow names. TZ=UTC because nfdump prints
// local times; -6 because nfdump shortens long IPv6 addresses otherwise. Runs nfdump on `file` and
// imports its output; returns the import's counters.
template <typename Flush>
store::ImportStats import_via_nfdump(const std::string& file, const std::string& name,
                                     SessionBatch& batch, Flush& flush_batch, bool tty) {
  int fds[2];
  if (::pipe(fds) != 0) throw UserError{"cannot create a pipe for nfdump"};
  const pid_t pid = ::fork();
  if (pid < 0) throw UserError{"cannot start nfdump"};
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::setenv("TZ", "UTC", 1);
    ::execlp("nfdump", "nfdump", "-6", "-q", "-N", "-r", file.c_str(), "-o",
             store::kNfdumpCsvFormat, static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[1]);
  __gnu_cxx::stdio_filebuf<char> buf(fds[0], std::ios::in);
  std::istream in(&buf);
  // Lines go through store::fix_nfdump_icmp_port in chunks to one importer (which keeps its
  // line numbers and counts across chunks).
  std::stringstream chunk;
  auto importer = store::CsvImporter::open(chunk, name, store::kNfdumpCsvColumns);
  if (!importer) throw UserError{importer.error().message};
  std::string line, pending;
  bool more = true;
  while (more) {
    pending.clear();
    for (int line_idx = 0; line_idx < 16384; ++line_idx) {
      if (!std::getline(in, line)) {
        more = false;
        break;
      }
      store::fix_nfdump_icmp_port(line);
      pending += line;
      pending += '\n';
    }
    chunk.clear();
    chunk.str(pending);
    while (importer->read(batch, kImportBatchRows - batch.size())) {
      flush_batch();
      progress(name, importer->stats().records, tty);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw UserError{fmt::format(
        "{}: nfdump failed (exit {}); --format nfdump reads nfcapd files with nfdump: install it "
        "(apt-get install nfdump) and check that 'nfdump -r {}' works",
        file, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), file)};
  }
  return importer->stats();
}

bool looks_like_flowtools(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0xCF && magic[1] == 0x10;
}

// Traffic of the sessions stored from one file, for the summary (and for checking an import
// against the source tool's own totals, e.g. 'nfdump -I').
struct Totals {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  void add(const SessionBatch& batch) {
    packets += sum<FieldId::ClnPackets>(batch) + sum<FieldId::SrvPackets>(batch);
    bytes += sum<FieldId::ClnBytes>(batch) + sum<FieldId::SrvBytes>(batch);
  }
  template <FieldId F>
  static std::uint64_t sum(const SessionBatch& batch) {
    const auto values = batch.values<F>();
    const Column& col = batch.column(F);
    std::uint64_t total = 0;
    for (std::size_t row = 0; row < values.size(); ++row) {
      if (col.valid(row)) total += values[row];
    }
    return total;
  }
};

void print_summary(const std::string& file, const store::ImportStats& stats, const Totals& totals) {
  std::cout << file << ": imported " << stats.records << " records";
  if (stats.skipped > 0) {
    std::cout << ", skipped " << stats.skipped << " (";
    bool first = true;
    for (const auto& [reason, n] : stats.skipped_by_reason) {
      std::cout << (first ? "" : ", ") << reason << " " << n;
      first = false;
    }
    std::cout << ")";
  }
  std::cout << '\n';
  for (const auto& e : stats.examples) std::cout << "  skipped: " << e << '\n';
  if (stats.records > 0) {
    std::cout << "  traffic: " << totals.packets << " packets, " << totals.bytes << " bytes\n";
  }
}

template <typename Flush>
void import_file(const std::string& file, const ImportOptions& opt, SessionBatch& batch,
                 Flush& flush_batch, Totals& totals, bool tty);

void run(const ImportOptions& opt) {
  store::StoreOptions so;
  so.dir = opt.dir;
  auto opened = store::EmbeddedStore::open(so);
  if (!opened) throw UserError{opened.error().message};
  auto& st = **opened;
  const bool tty = ::isatty(2) != 0;
  SessionBatch batch(kImportBatchRows);
  Totals totals;
  auto flush_batch = [&] {
    if (batch.empty()) return;
    totals.add(batch);
    if (auto r = st.append(batch); !r) throw UserError{r.error().message};
    batch.clear();
  };
  std::size_t failed = 0;
  for (const std::string& file : opt.files) {
    try {
      import_file(file, opt, batch, flush_batch, totals, tty);
    } catch (const UserError& e) {
      // One unreadable file does not stop the others; the exit code says something failed.
      std::cerr << "flowscope: error: " << e.message << '\n';
      ++failed;
    }
  }
  if (auto r = st.close(); !r) throw UserError{r.error().message};
  if (failed > 0) {
    throw UserError{
        fmt::format("{} of {} files could not be imported (see above)", failed, opt.files.size())};
  }
}

template <typename Flush>
void import_file(const std::string& file, const ImportOptions& opt, SessionBatch& batch,
                 Flush& flush_batch, Totals& totals, bool tty) {
  {
    totals = Totals{};
    const std::string name = std::filesystem::path(file).filename().string();
    const bool ft =
        opt.format == "flowtools" || (opt.format == "auto" && looks_like_flowtools(file));
    const bool nf = opt.format == "nfcapd" || (opt.format == "auto" && looks_like_nfcapd(file));
    store::ImportStats stats;
    if (opt.format == "nfdump") {
      stats = import_via_nfdump(file, name, batch, flush_batch, tty);
    } else if (nf) {
      auto reader = store::NfcapdReader::open(file);
      if (!reader) throw UserError{reader.error().message};
      while (reader->read(batch, kImportBatchRows - batch.size())) {
        if (batch.size() >= kImportBatchRows) flush_batch();
        progress(name, reader->stats().records, tty);
      }
      stats = reader->stats();
    } else if (ft) {
      auto reader = store::FlowtoolsReader::open(file);
      if (!reader) throw UserError{reader.error().message};
      while (reader->read(batch, kImportBatchRows - batch.size())) {
        if (batch.size() >= kImportBatchRows) flush_batch();
        progress(name, reader->stats().records, tty);
      }
      stats = reader->stats();
    } else {
      std::ifstream in(file, std::ios::binary);
      if (!in) throw UserError{"cannot open " + file + ": check the path and permissions"};
      auto importer = store::CsvImporter::open(in, name);
      if (!importer) throw UserError{importer.error().message, kExitUsage};
      while (importer->read(batch, kImportBatchRows - batch.size())) {
        flush_batch();
        progress(name, importer->stats().records, tty);
      }
      stats = importer->stats();
    }
    flush_batch();
    if (tty) std::cerr << '\n';
    print_summary(file, stats, totals);
  }
}

}  // namespace

void register_import(CLI::App& app) {
  auto opt = std::make_shared<ImportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Import flow files (CSV with registry names, flow-tools, nfdump's nfcapd) into the store");
  cmd->add_option("-d,--data-dir", opt->dir, "Data directory of the store (created if missing)")
      ->required();
  cmd->add_option("files", opt->files, "Files to import")->required();
  cmd->add_option("--format", opt->format,
                  "auto (flow-tools and nfcapd by magic, else CSV), csv, flowtools, nfcapd, "
                  "nfdump (nfcapd files through 'nfdump -o csv')")
      ->check(CLI::IsMember({"auto", "csv", "flowtools", "nfcapd", "nfdump"}))
      ->capture_default_str();
  cmd->footer(
      "CSV: the first line names the columns with session names (cln_addr, start_time, ...) or\n"
      "flow names as 'flowscope decode --format csv' writes them. One-way flows (CSV with flow\n"
      "names, flow-tools, nfcapd) are stored as one-sided sessions, client = source\n"
      "(sides = 1).\n"
      "nfcapd files (nfdump 1.7, any compression) are read natively; records of unknown\n"
      "types and damaged blocks are skipped and counted. --format nfdump reads them through\n"
      "'nfdump -o csv' instead (nfdump must be installed), e.g. for nfdump 1.6 files.\n"
      "Lines that do not parse are skipped, counted by reason and quoted in the summary.\n\n"
      "Examples:\n"
      "  flowscope import -d /var/lib/flowscope sessions.csv\n"
      "  flowscope decode export.pcap --format csv --fields src_addr,dst_addr,first,bytes > f.csv\n"
      "  flowscope import -d data f.csv\n"
      "  flowscope import -d data /var/flow-tools/ft-v05.2026-11-24.*\n"
      "  flowscope import -d data /var/cache/nfdump/nfcapd.202611240500\n"
      "  flowscope import -d data --format nfdump /var/cache/nfdump-1.6/nfcapd.201901010000");
  cmd->callback([opt] { run(*opt); });
}

}  // namespace flowscope::cli
