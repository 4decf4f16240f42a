// `flowscope import -d DATADIR FILE...`: loads flow files into the embedded store through the
// import module (import/file_importer.h: CSV with a header of registry names, flow-tools files
// and nfdump's nfcapd files, read natively or with `--format nfdump` through nfdump's CSV
// output). Progress on stderr, a summary of what was imported and what was skipped and why on
// stdout.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/short_flags.h"
#include "core/log.h"
#include "store/embedded_store.h"

#include "import/file_importer.h"

namespace flowscope::cli {
namespace {

struct ImportOptions {
  std::string dir;
  std::vector<std::string> files;
  std::string format = "auto";
  bool json = false;
};

// `import -`: standard input copied to a file "stdin" in a private temporary directory, so that the
// format can be sniffed and the readers can open it like any file; messages then name "stdin".
// Removed with the object.
class StdinCopy {
 public:
  StdinCopy() = default;
  StdinCopy(const StdinCopy&) = delete;
  StdinCopy& operator=(const StdinCopy&) = delete;
  ~StdinCopy() {
    if (dir_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& path() {
    if (!path_.empty()) return path_;
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "flowscope-import-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw UserError{"-: cannot make a temporary directory"};
    dir_ = tmpl;
    path_ = (std::filesystem::path(dir_) / "stdin").string();
    std::FILE* out = std::fopen(path_.c_str(), "wb");
    if (out == nullptr) throw UserError{"-: cannot write " + path_};
    char buf[1 << 16];
    std::size_t n = 0;
    bool written = true;
    while (written && (n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
      written = std::fwrite(buf, 1, n, out) == n;
    }
    if (std::fclose(out) != 0 || !written) {
      throw UserError{"-: cannot copy standard input to " + path_ + " (is the disk full?)"};
    }
    return path_;
  }

 private:
  std::string dir_;
  std::string path_;
};

nlohmann::json summary_json(const std::string& file, const import::ImportStats& stats) {
  return {{"file", file},
          {"records", stats.records},
          {"skipped", stats.skipped},
          {"skipped_by_reason", stats.skipped_by_reason},
          {"examples", stats.examples},
          {"packets", stats.packets},
          {"bytes", stats.bytes}};
}

void run(const ImportOptions& opt) {
  auto mode = import::parse_import_mode(opt.format);
  if (!mode) throw UserError{"--format: " + mode.error().message, kExitUsage};
  // A file that is not there: said before anything is opened, so the store (and its
  // directory) stays as it was, or absent.
  std::vector<std::string> missing;
  for (const std::string& file : opt.files) {
    std::error_code ec;
    if (file != "-" && !std::filesystem::exists(file, ec)) missing.push_back(file);
  }
  if (std::count(opt.files.begin(), opt.files.end(), "-") > 1) {
    throw UserError{"- (standard input) can be given once", kExitUsage};
  }
  if (!missing.empty()) {
    std::error_code ec;
    throw UserError{fmt::format("{}: no such file; nothing imported, {}", fmt::join(missing, ", "),
                                std::filesystem::exists(opt.dir, ec)
                                    ? opt.dir + " left as it was"
                                    : "no store created at " + opt.dir)};
  }
  StdinCopy stdin_copy;
  store::StoreOptions so;
  so.dir = opt.dir;
  auto opened = store::EmbeddedStore::open(so);
  if (!opened) throw UserError{opened.error().message};
  auto& st = **opened;
  const bool tty = ::isatty(2) != 0 && !opt.json;
  // Ctrl-C: the batch under way is not stored, those before it are (st.close() below), exit 130.
  InterruptFlag interrupt;
  std::uint64_t stored = 0;
  auto append = [&st, &interrupt, &stored](const SessionBatch& batch) -> Result<void> {
    if (interrupt.raised()) return Error{ErrorCode::Cancelled, "interrupted (Ctrl-C)"};
    if (auto r = st.append(batch); !r) return r.error();
    stored += batch.size();
    return ok();
  };
  auto progress = [tty](std::string_view name, std::uint64_t records) {
    if (tty) std::cerr << "\rimporting " << name << ": " << records << " records" << std::flush;
  };
  // (Not a statement opening with "import::": clang-format 14 takes that for a C++20 import.)
  auto importer = import::FileImporter(append, progress);
  std::size_t failed = 0;
  nlohmann::json files = nlohmann::json::array();
  for (const std::string& file : opt.files) {
    if (interrupt.raised()) break;
    const std::uint64_t stored_before = stored;
    auto stats = importer.import_file(file == "-" ? stdin_copy.path() : file, *mode);
    if (tty) std::cerr << '\n';
    if (interrupt.raised()) {
      const std::string message =
          fmt::format("{}: interrupted; {} records of it stored", file, stored - stored_before);
      log_always(spdlog::level::warn, "import", "flowscope: " + message, message,
                 {{"file", file}, {"records", stored - stored_before}});
      break;
    }
    if (!stats) {
      // One unreadable file does not stop the others; the exit code says something failed.
      log_always(spdlog::level::err, "import", "flowscope: error: " + stats.error().message,
                 stats.error().message, {{"file", file}});
      if (opt.json) files.push_back({{"file", file}, {"error", stats.error().message}});
      ++failed;
      continue;
    }
    if (opt.json) {
      files.push_back(summary_json(file, *stats));
    } else {
      std::cout << import::import_summary(file, *stats) << std::flush;
    }
  }
  if (auto r = st.close(); !r) throw UserError{r.error().message};
  if (opt.json) {
    std::cout << nlohmann::json{{"files", files},
                                {"records", stored},
                                {"failed", failed},
                                {"interrupted", interrupt.raised()}}
                     .dump()
              << '\n';
  }
  std::cout.flush();
  if (interrupt.raised()) {
    throw UserError{fmt::format("interrupted (Ctrl-C); {} records stored in {}", stored, opt.dir),
                    kExitInterrupted};
  }
  if (failed > 0) {
    throw UserError{
        fmt::format("{} of {} files could not be imported (see above)", failed, opt.files.size())};
  }
}

}  // namespace

void register_import(CLI::App& app) {
  auto opt = std::make_shared<ImportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Import flow files (CSV with registry names, flow-tools, nfdump's nfcapd) into the store");
  cmd->add_option(kDataDirOption, opt->dir, "Data directory of the store (created if missing)")
      ->required();
  cmd->add_option("files", opt->files, "Files to import; - reads standard input")->required();
  cmd->add_flag("--json", opt->json,
                "The summary as one JSON object on standard output (files, records, failed)");
  cmd->add_option("--format", opt->format,
                  "auto (flow-tools and nfcapd by magic, CSV when the file is text), csv, "
                  "flowtools, nfcapd, nfdump (nfcapd files through 'nfdump -o csv')")
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
      "  zcat flows.csv.gz | flowscope import -d data -\n"
      "  flowscope import -d data /var/flow-tools/ft-v05.2026-11-24.*\n"
      "  flowscope import -d data /var/cache/nfdump/nfcapd.202611240500\n"
      "  flowscope import -d data --format nfdump /var/cache/nfdump-1.6/nfcapd.201901010000");
  cmd->callback([opt] { run(*opt); });
}

}  // namespace flowscope::cli
