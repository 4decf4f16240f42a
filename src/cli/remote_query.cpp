#include "cli/remote_query.h"

#include <iostream>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "core/log.h"
#include "query/raw_retention.h"

namespace flowscope::cli {

nlohmann::json run_remote(std::string_view kind, nlohmann::json spec, const CommonQueryOptions& opt,
                          const nlohmann::json& extra) {
  std::string output = opt.csv ? "csv" : opt.csv_header ? "csv+" : opt.json ? "json" : "table";
  if (!opt.output.empty()) output = opt.output;
  nlohmann::json request = extra;
  request["kind"] = kind;
  request["spec"] = std::move(spec);
  request["output"] = output;
  request["zone"] = opt.zone;

  server::Client client = connect_server(opt.server);
  query::CancelToken cancel;
  CancelOnInterrupt interrupt(cancel);
  auto done = client.request(request, [&](const server::Frame& f) {
    if (f.type == server::FrameType::Rows) {
      std::cout << server::text_field(f.body, "text");
      std::cout.flush();
    }
    return !cancel.cancelled();
  });
  if (!done) {
    const std::string& m = done.error().message;
    // A parse error with its place: shown with a caret under the filter, as a local one.
    const std::string filter = request["spec"].value("filter", std::string());
    if (done.error().where && done.error().where->offset <= filter.size()) {
      Error e = done.error();
      if (const auto colon = e.message.find(": ");
          m.rfind("Parse", 0) == 0 && colon != std::string::npos) {
        e.message = e.message.substr(colon + 2);  // "Parse: expected ..." -> "expected ..."
      }
      const bool nfdump = request["spec"].value("syntax", std::string()) == "nfdump";
      throw UserError{"server " + opt.server.server + ": " +
                          render_error(nfdump ? "nfdump filter" : "filter", filter, e),
                      kExitUsage};
    }
    const bool usage = m.rfind("Parse", 0) == 0 || m.rfind("InvalidArgument", 0) == 0;
    throw UserError{"server " + opt.server.server + ": " + m, usage ? kExitUsage : kExitError};
  }
  if (server::bool_field(*done, "cancelled")) {
    throw UserError{"query cancelled (Ctrl-C)", kExitInterrupted};
  }
  if (const auto m = done->find("missing"); m != done->end() && m->is_object()) {
    const std::string note = query::missing_note(*m);
    log_always(spdlog::level::info, "query", "flowscope: " + note, note);
  }
  if (server::bool_field(*done, "saturated") && output.rfind("csv", 0) == 0) {
    log_always(spdlog::level::warn, "query",
               std::string("flowscope: warning: ") + query::kSaturatedNote, query::kSaturatedNote);
  }
  if (opt.explain) {
    std::cerr << fmt::format(
        "server: source {}; rows {} read; {} ms\n", server::text_field(*done, "source"),
        server::uint_field(*done, "rows_read"), done->value("elapsed_ms", 0.0));
  }
  return *done;
}

}  // namespace flowscope::cli
