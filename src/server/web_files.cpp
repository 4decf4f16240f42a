#include "server/web_files.h"

#include <array>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace flowscope::server {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxTotal = 64u << 20;  // the dashboard is ~1 MiB; this is a bound

bool has_index(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "index.html", ec);
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

}  // namespace

std::string_view content_type_of(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
      {".wasm", "application/wasm"},
  }};
  const std::size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    const std::string_view ext = name.substr(dot);
    for (const auto& [e, type] : kTypes) {
      if (e == ext) return type;
    }
  }
  return "application/octet-stream";
}

Result<WebFiles> WebFiles::load(const fs::path& dir) {
  if (!has_index(dir)) {
    return Error{ErrorCode::NotFound,
                 fmt::format("{} has no index.html; build the dashboard (make build, with npm "
                             "installed) or set [http] web_dir to its dist directory",
                             dir.string())};
  }
  WebFiles out;
  out.dir_ = dir;
  std::uintmax_t total = 0;
  std::error_code ec;
  // Symlinks are not followed: a link in the directory cannot point the map at /etc.
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    const fs::path rel = fs::relative(it->path(), dir, ec);
    if (ec) break;
    total += it->file_size(ec);
    if (total > kMaxTotal) {
      return Error{ErrorCode::OutOfRange,
                   fmt::format("{} holds more than 64 MiB; point [http] web_dir at the "
                               "dashboard's dist directory",
                               dir.string())};
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) {
      return Error{ErrorCode::Io, fmt::format("cannot read {}", it->path().string())};
    }
    WebFile f;
    f.content = std::move(bytes).str();
    const std::string name = rel.generic_string();
    f.content_type = std::string(content_type_of(name));
    f.immutable = name.starts_with("assets/");
    out.files_.emplace("/" + name, std::move(f));
  }
  if (ec) {
    return Error{ErrorCode::Io, fmt::format("cannot list {}: {}", dir.string(), ec.message())};
  }
  return out;
}

const WebFile* WebFiles::lookup(std::string_view url_path) const {
  if (url_path == "/" || url_path.empty()) url_path = "/index.html";
  const auto it = files_.find(url_path);
  return it == files_.end() ? nullptr : &it->second;
}

Result<std::optional<fs::path>> find_web_dir(const fs::path& configured) {
  if (!configured.empty()) {
    if (!has_index(configured)) {
      return Error{ErrorCode::NotFound,
                   fmt::format("[http] web_dir {} has no index.html; set it to the dashboard's "
                               "built files (web/dist after make build), or remove the key",
                               configured.string())};
    }
    return std::optional<fs::path>(configured);
  }
  std::vector<fs::path> candidates;
  if (const fs::path exe = executable_dir(); !exe.empty()) {
    candidates.push_back(exe.parent_path() / "share" / "flowscope" / "web");
  }
#ifdef FLOWSCOPE_WEB_INSTALL_DIR
  candidates.emplace_back(FLOWSCOPE_WEB_INSTALL_DIR);
#endif
#ifdef FLOWSCOPE_WEB_BUILD_DIR
  candidates.emplace_back(FLOWSCOPE_WEB_BUILD_DIR);
#endif
  for (const fs::path& c : candidates) {
    if (has_index(c)) return std::optional<fs::path>(c);
  }
  return std::optional<fs::path>();
}

}  // namespace flowscope::server
