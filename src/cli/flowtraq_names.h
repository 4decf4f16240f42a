#pragma once
// FlowTraq's program names (docs/query.md "FlowTraq's programs"): the binary invoked as `ftsq`,
// `ftstat` or `ftum` (the links installed beside `flowscope`) runs `flowscope query`, `stat` or
// `user` with FlowTraq's parameters exactly as its CLI manual gives them: -srv, -un, -up, -us
// (bare: create a session key; with a key: use it), -t, -c, -c+, -grp, -cnt, -snd, -rcv, -n,
// -w, -g, -gx, -gy and a filter string. Under these names the server defaults to localhost (as
// FlowTraq's tools do; -d DATADIR still reads a store directly), a session key is printed bare
// on stderr, and CSV headers use FlowTraq's filter keywords (CLNIP, SRVPORT, ...). Main thread
// only; pure functions apart from the stdout filter.

#include <memory>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace flowscope::cli {

// "ftsq", "ftstat" or "ftum" when argv[0]'s base name is one of them.
std::optional<std::string> flowtraq_program(std::string_view argv0);

// The `flowscope` command line that `program ARGS` stands for (argv[0] first). FlowTraq's -c,
// -n, -w, -g (and ftsq's -s) become the long names of their FlowTraq meaning, since flowscope's
// subcommands give those letters one meaning of their own (docs/packaging.md).
std::vector<std::string> flowtraq_program_args(const std::string& program,
                                               const std::vector<std::string>& args);

// A CSV header line with registry names (`cln_addr,srv_port,...`) rewritten to FlowTraq's filter
// keywords (`CLNIP,SRVPORT,...`); names without a keyword are upper-cased (`RANK`), network
// suffixes kept (`cln_addr/24` -> `CLNIP/24`).
std::string flowtraq_header(std::string_view line);

// Wraps `target`: passes everything through but the first line, which goes through
// flowtraq_header. For -c+ under FlowTraq's names, local or remote. Not thread-safe.
std::unique_ptr<std::streambuf> make_header_keyword_buf(std::streambuf* target);

}  // namespace flowscope::cli
