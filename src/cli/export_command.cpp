// `flowscope export --format flow-tools`: sessions of a store (the query options: -d, -t,
// filter) written as a flow-tools file (import/flowtools_writer.h), for flow-tools' programs and
// pyflowtools scripts. Each session gives one record per direction that carried packets
// (client to server, then server to client); IPv6 sessions have no flow-tools form and are
// counted and left out. Main thread only.
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/query_common.h"
#include "cli/short_flags.h"

#include "import/flowtools_writer.h"

namespace flowscope::cli {
namespace {

struct ExportOptions {
  CommonQueryOptions common;
  std::string format = "flow-tools";
  std::string output = "-";
  unsigned ft_version = 5;
  int z_level = 0;
  std::string byte_order = "little";
};

// Times as flow-tools keeps them: the export time is the session's end and the router's
// uptime then is the session's length, so First = 0 and Last = length.
void add_direction(const SessionBatch& s, std::size_t r, bool client, import::FtRecord& rec) {
  using F = import::FtField;
  const std::int64_t end = s.get<FieldId::EndTime>(r);
  const std::int64_t length = std::max<std::int64_t>(0, end - s.get<FieldId::StartTime>(r));
  rec = import::FtRecord{};
  rec.set(F::UnixSecs, static_cast<std::uint32_t>(end / 1000));
  rec.set(F::UnixNsecs, static_cast<std::uint32_t>(end % 1000 * 1'000'000));
  rec.set(F::SysUpTime, static_cast<std::uint32_t>(length));
  rec.set(F::First, 0);
  rec.set(F::Last, static_cast<std::uint32_t>(length));
  auto v4 = [&](const IpAddress& a) { return a.is_v4() ? a.v4_value() : 0u; };
  rec.set(F::Exaddr, v4(s.get<FieldId::Exporter>(r)));
  rec.set(F::Nexthop, v4(s.get<FieldId::NextHop>(r)));
  const IpAddress cln = s.get<FieldId::ClnAddr>(r), srv = s.get<FieldId::SrvAddr>(r);
  rec.set(F::Srcaddr, v4(client ? cln : srv));
  rec.set(F::Dstaddr, v4(client ? srv : cln));
  rec.set(F::Srcport, client ? s.get<FieldId::ClnPort>(r) : s.get<FieldId::SrvPort>(r));
  rec.set(F::Dstport, client ? s.get<FieldId::SrvPort>(r) : s.get<FieldId::ClnPort>(r));
  rec.set(F::Input, static_cast<std::uint16_t>(s.get<FieldId::InIf>(r)));
  rec.set(F::Output, static_cast<std::uint16_t>(s.get<FieldId::OutIf>(r)));
  const std::uint64_t packets =
      client ? s.get<FieldId::ClnPackets>(r) : s.get<FieldId::SrvPackets>(r);
  const std::uint64_t bytes = client ? s.get<FieldId::ClnBytes>(r) : s.get<FieldId::SrvBytes>(r);
  // flow-tools counters are 32 bits: saturate rather than wrap.
  rec.set(F::DPkts, static_cast<std::uint32_t>(std::min<std::uint64_t>(packets, 0xffffffff)));
  rec.set(F::DOctets, static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, 0xffffffff)));
  rec.set(F::DFlows, 1);
  rec.set(F::Prot, s.get<FieldId::Proto>(r));
  rec.set(F::Tos, s.get<FieldId::Tos>(r));
  rec.set(F::TcpFlags, client ? s.get<FieldId::ClnTcpFlags>(r) : s.get<FieldId::SrvTcpFlags>(r));
  const std::uint32_t cln_as = s.get<FieldId::ClnAs>(r), srv_as = s.get<FieldId::SrvAs>(r);
  rec.set(F::SrcAs, static_cast<std::uint16_t>(client ? cln_as : srv_as));
  rec.set(F::DstAs, static_cast<std::uint16_t>(client ? srv_as : cln_as));
}

void run_export(const ExportOptions& opt) {
  if (opt.format != "flow-tools") {
    throw UserError{fmt::format("--format {}: only flow-tools is supported", opt.format),
                    kExitUsage};
  }
  if (opt.byte_order != "little" && opt.byte_order != "big") {
    throw UserError{"--byte-order: use little or big", kExitUsage};
  }
  if (!opt.common.server.server.empty()) {
    throw UserError{"export reads a local store: give -d DATADIR", kExitUsage};
  }
  ResolvedQuery q = resolve_common(opt.common);
  import::FlowtoolsHeader header;
  header.version = static_cast<std::uint16_t>(opt.ft_version);
  header.big_endian = opt.byte_order == "big";
  header.comments = "flowscope export";
  if (opt.output == "-") {
    header.flags = import::kFtFlagStreaming;
  } else {
    header.flags = import::kFtFlagDone;
    header.flow_count = 0;  // rewritten at close
  }
  auto writer = import::FlowtoolsWriter::create(opt.output, header, {opt.z_level, true});
  if (!writer) throw UserError{writer.error().message, kExitUsage};
  if (!writer->layout().has(import::FtField::Srcaddr)) {
    throw UserError{"--ft-version: choose a version with addresses (1, 5, 6, 7 or 1005)",
                    kExitUsage};
  }

  query::QuerySpec spec;
  spec.where = q.where;
  spec.fields = {
      FieldId::StartTime,   FieldId::EndTime,     FieldId::Exporter,   FieldId::NextHop,
      FieldId::ClnAddr,     FieldId::SrvAddr,     FieldId::ClnPort,    FieldId::SrvPort,
      FieldId::InIf,        FieldId::OutIf,       FieldId::ClnPackets, FieldId::SrvPackets,
      FieldId::ClnBytes,    FieldId::SrvBytes,    FieldId::Proto,      FieldId::Tos,
      FieldId::ClnTcpFlags, FieldId::SrvTcpFlags, FieldId::ClnAs,      FieldId::SrvAs};
  std::uint64_t ipv6 = 0;
  Error write_error;
  bool failed = false;
  import::FtRecord rec;
  auto stats = query::execute_query(
      *q.store, spec,
      [&](const SessionBatch& s) {
        for (std::size_t r = 0; r < s.size(); ++r) {
          if (!s.get<FieldId::ClnAddr>(r).is_v4() || !s.get<FieldId::SrvAddr>(r).is_v4()) {
            ++ipv6;
            continue;
          }
          for (bool client : {true, false}) {
            if (!client && s.get<FieldId::SrvPackets>(r) == 0) continue;
            add_direction(s, r, client, rec);
            if (auto w = writer->write(rec); !w) {
              write_error = w.error();
              failed = true;
              return false;
            }
          }
        }
        return true;
      },
      q.exec);
  if (failed) throw UserError{write_error.message};
  if (!stats) throw_query_error(stats.error(), q);
  if (auto c = writer->close(); !c) throw UserError{c.error().message};
  std::cerr << fmt::format("flowscope: exported {} sessions as {} flow-tools v{} records{}\n",
                           stats->rows_returned, writer->records_written(), opt.ft_version,
                           ipv6 ? fmt::format("; {} IPv6 sessions left out", ipv6) : "");
}

}  // namespace

void register_export(CLI::App& app) {
  auto opt = std::make_shared<ExportOptions>();
  opt->common.time = "all";
  CLI::App* cmd = app.add_subcommand(
      "export", "Write sessions of a store in another tool's format (flow-tools)");
  add_common_query_options(*cmd, opt->common);
  cmd->add_option("--format", opt->format, "Output format: flow-tools")->capture_default_str();
  add_moved_flag(*cmd, 'c', "CSV output is --csv (or -o csv)");
  cmd->add_option("-w,--write", opt->output, "Output file; - is standard output")
      ->capture_default_str();
  cmd->add_option("--ft-version", opt->ft_version, "flow-tools export version: 1, 5, 6, 7, 1005")
      ->capture_default_str();
  cmd->add_option("-z,--zlib", opt->z_level, "zlib level 0 (none) to 9")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  cmd->add_option("--byte-order", opt->byte_order, "little or big")->capture_default_str();
  cmd->footer(
      "Each session gives a record per direction that carried packets; IPv6 sessions are left "
      "out (flow-tools has no IPv6 records). docs/python.md describes the format.\n\n"
      "Examples:\n"
      "  flowscope export -d data --format flow-tools -w week.ft -z 6\n"
      "  flowscope export -d data -t 1h --format flow-tools 'PROTO == tcp' | flow-print\n"
      "  flowscope export -d data --format flow-tools --ft-version 7 --byte-order big -w r.ft");
  cmd->callback([opt] { run_export(*opt); });
}

}  // namespace flowscope::cli
