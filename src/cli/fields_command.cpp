// `flowscope fields`: the field registry as a table or JSON, the place users look up filter
// keywords, canonical names, types and comparators.
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table_writer.h"
#include "core/field_registry.h"
#include "query/field_json.h"

namespace flowscope::cli {
namespace {

struct FieldsOptions {
  bool json = false;
  std::string kind = "all";
  bool filterable = false;
};

bool selected(const FieldInfo& f, const FieldsOptions& opt) {
  if (opt.filterable && f.filter_name.empty()) return false;
  if (opt.kind == "flow") return in_kind(f, RecordKind::Flow);
  if (opt.kind == "session") return in_kind(f, RecordKind::Session);
  return true;
}

std::string comparator_list(const FieldInfo& f) {
  std::string out;
  for (Comparator c : kAllComparators) {
    if (!comparators(f).has(c)) continue;
    if (!out.empty()) out += ' ';
    out += comparator_symbol(c);
  }
  return out;
}

void run(const FieldsOptions& opt) {
  if (opt.json) {
    nlohmann::json all = nlohmann::json::array();
    for (const FieldInfo& f : kFieldTable) {
      if (selected(f, opt)) all.push_back(query::field_json(f));
    }
    std::cout << all.dump(2) << '\n';
    return;
  }
  TableWriter table({{"FILTER"},
                     {"NAME"},
                     {"SCOPE"},
                     {"TYPE"},
                     {"UNIT"},
                     {"COMPARATORS"},
                     {"DESCRIPTION", TableWriter::Align::Left, 60}});
  for (const FieldInfo& f : kFieldTable) {
    if (!selected(f, opt)) continue;
    std::string desc(f.description);
    if (f.kind != FieldKind::Stored) desc += " [" + definition(f) + "]";
    table.add_row({std::string(f.filter_name.empty() ? "-" : f.filter_name), std::string(f.name),
                   std::string(scope_name(f.scope)), std::string(type_name(f.type)),
                   std::string(f.unit), comparator_list(f), desc});
  }
  table.write(std::cout);
}

}  // namespace

void register_fields(CLI::App& app) {
  auto opt = std::make_shared<FieldsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fields", "List every flow and session field: filter keyword, name, type, comparators");
  cmd->add_flag("--json", opt->json, "Print a JSON array, one object per field");
  cmd->add_option("--kind", opt->kind, "Only fields of flow records, sessions, or all")
      ->check(CLI::IsMember({"flow", "session", "all"}))
      ->capture_default_str();
  cmd->add_flag("--filterable", opt->filterable, "Only fields usable in filters");
  cmd->footer(
      "Scopes: 'flow' fields describe one-way records (flowscope decode), 'session' fields\n"
      "two-way sessions (query, stat), 'both' fields mean the same in each. Derived fields\n"
      "(ADDR, TOTBYTS, TTIME, ...) are computed from the stored ones shown in brackets.\n\n"
      "Examples:\n"
      "  flowscope fields                       all fields as a table\n"
      "  flowscope fields --kind session --filterable\n"
      "                                         what a filter can test\n"
      "  flowscope fields --json | jq '.[] | select(.filter==\"CLNIP\")'");
  cmd->callback([opt] { run(*opt); });
}

void register_all(CLI::App& app) {
  register_fields(app);
  register_decode(app);
  register_gen(app);
  register_store(app);
  register_import(app);
  register_ipinfo(app);
  register_serve(app);
  register_user(app);
  register_query(app);
  register_stat(app);
  register_export(app);
  register_capture(app);
  register_tcpflow(app);
  register_report(app);
  register_schedule(app);
  register_doc(app);
}

}  // namespace flowscope::cli
