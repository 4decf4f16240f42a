// `flowscope import -d DATADIR FILE...`: loads flow files into the embedded store through the
// import module (import/file_importer.h: CSV with a header of registry names, flow-tools files
// and nfdump's nfcapd files, read natively or with `--format nfdump` through nfdump's CSV
// output). Progress on stderr, a summary of what was imported and what was skipped and why on
// stdout.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands.h"
#include "store/embedded_store.h"

#include "import/file_importer.h"

namespace flowscope::cli {
namespace {

struct ImportOptions {
  std::string dir;
  std::vector<std::string> files;
  std::string format = "auto";
};

void run(const ImportOptions& opt) {
  auto mode = import::parse_import_mode(opt.format);
  if (!mode) throw UserError{"--format: " + mode.error().message, kExitUsage};
  store::StoreOptions so;
  so.dir = opt.dir;
  auto opened = store::EmbeddedStore::open(so);
  if (!opened) throw UserError{opened.error().message};
  auto& st = **opened;
  const bool tty = ::isatty(2) != 0;
  auto append = [&st](const SessionBatch& batch) -> Result<void> {
    if (auto r = st.append(batch); !r) return r.error();
    return ok();
  };
  auto progress = [tty](std::string_view name, std::uint64_t records) {
    if (tty) std::cerr << "\rimporting " << name << ": " << records << " records" << std::flush;
  };
  // (Not a statement opening with "import::": clang-format 14 takes that for a C++20 import.)
  auto importer = import::FileImporter(append, progress);
  std::size_t failed = 0;
  for (const std::string& file : opt.files) {
    auto stats = importer.import_file(file, *mode);
    if (tty) std::cerr << '\n';
    if (!stats) {
      // One unreadable file does not stop the others; the exit code says something failed.
      std::cerr << "flowscope: error: " << stats.error().message << '\n';
      ++failed;
      continue;
    }
    std::cout << import::import_summary(file, *stats);
  }
  if (auto r = st.close(); !r) throw UserError{r.error().message};
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
  cmd->add_option("-d,--data-dir", opt->dir, "Data directory of the store (created if missing)")
      ->required();
  cmd->add_option("files", opt->files, "Files to import")->required();
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
      "  flowscope import -d data /var/flow-tools/ft-v05.2026-11-24.*\n"
      "  flowscope import -d data /var/cache/nfdump/nfcapd.202611240500\n"
      "  flowscope import -d data --format nfdump /var/cache/nfdump-1.6/nfcapd.201901010000");
  cmd->callback([opt] { run(*opt); });
}

}  // namespace flowscope::cli
