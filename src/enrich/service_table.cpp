#include "enrich/service_table.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace flowscope::enrich {
namespace {

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

ServiceTable::ServiceTable() : names_{""} {
  for (auto& v : by_proto_) v.assign(65536, 0);
}

Result<void> ServiceTable::add_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::NotFound,
                 path.string() + ": cannot open the service table; check the path"};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return add_text(ss.str(), path.string());
}

Result<void> ServiceTable::add_text(std::string_view text, std::string_view source) {
  // Names repeat (udp and tcp share most); ids are 16-bit.
  std::unordered_map<std::string, std::uint16_t> ids;
  for (std::uint16_t i = 0; i < names_.size(); ++i) ids.emplace(names_[i], i);
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto words = split_ws(line);
    if (words.empty()) continue;
    auto where = [&] { return std::string(source) + ":" + std::to_string(line_no) + ": "; };
    if (words.size() != 3) {
      return Error{ErrorCode::InvalidArgument,
                   where() + "expected \"protocol port name\" (e.g. \"tcp 443 https\")"};
    }
    std::size_t proto_index;
    if (words[0] == "tcp") {
      proto_index = 0;
    } else if (words[0] == "udp") {
      proto_index = 1;
    } else if (words[0] == "sctp") {
      proto_index = 2;
    } else {
      return Error{
          ErrorCode::InvalidArgument,
          where() + "unknown protocol \"" + std::string(words[0]) + "\"; use tcp, udp or sctp"};
    }
    unsigned port = 0;
    auto [p, ec] = std::from_chars(words[1].data(), words[1].data() + words[1].size(), port);
    if (ec != std::errc() || p != words[1].data() + words[1].size() || port > 65535) {
      return Error{ErrorCode::InvalidArgument,
                   where() + "port \"" + std::string(words[1]) + "\" is not a number 0-65535"};
    }
    auto [it, fresh] = ids.emplace(std::string(words[2]), static_cast<std::uint16_t>(0));
    if (fresh) {
      if (names_.size() >= 65535) {
        return Error{ErrorCode::InvalidArgument, where() + "more than 65535 distinct names"};
      }
      it->second = static_cast<std::uint16_t>(names_.size());
      names_.push_back(it->first);
    }
    std::uint16_t& slot = by_proto_[proto_index][port];
    if (slot == 0) ++entries_;
    slot = it->second;
  }
  return ok();
}

ServicePorts ServiceTable::service_ports() const {
  ServicePorts out;
  constexpr std::uint8_t kProtos[] = {6, 17, 132};
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t port = 1; port < 65536; ++port) {
      if (by_proto_[i][port] != 0) out.add(kProtos[i], static_cast<std::uint16_t>(port));
    }
  }
  return out;
}

std::filesystem::path ServiceTable::shipped_path() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (const auto& candidate : {exe.parent_path() / "../share/flowscope/services.tsv",
                                exe.parent_path() / "../../../data/services.tsv"}) {
    if (std::filesystem::exists(candidate, ec)) return candidate;
  }
  return {};
}

}  // namespace flowscope::enrich
