// [http] allow_file: the addresses API tokens may come from (server_config.h).
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "server/server_config.h"

namespace flowscope::server {

Result<std::vector<Cidr>> parse_allow_list(std::string_view text, std::string_view source) {
  std::vector<Cidr> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    auto cidr = line.find('/') == std::string_view::npos ? [&]() -> Result<Cidr> {
      auto a = IpAddress::parse(line);
      if (!a) return Error{ErrorCode::Parse, "not an IP address"};
      return Cidr::host(*a);
    }()
        : Cidr::parse(line, Cidr::HostBits::Clear);
    if (!cidr) {
      return Error{ErrorCode::Parse,
                   fmt::format("{}:{}: \"{}\" is not an address or CIDR; write one per line, "
                               "e.g. 10.0.0.7 or 10.1.0.0/16 (# starts a comment)",
                               source, line_no, line),
                   SourcePos{0, line_no}};
    }
    out.push_back(*cidr);
  }
  return out;
}

Result<std::vector<Cidr>> load_allow_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::NotFound,
                 fmt::format("[http] allow_file \"{}\": cannot read the file; give a file of "
                             "addresses, one per line",
                             path.string())};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_allow_list(ss.str(), path.string());
}

}  // namespace flowscope::server
