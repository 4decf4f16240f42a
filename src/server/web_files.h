#pragma once
// Internal to flowscope_server: other modules use its public headers.
// WebFiles: the built dashboard (web/, docs/web.md) that the [http] listener serves at `/`.
//
// The files are read once, at start, from one directory (the Vite build: index.html and
// assets/NAME-HASH.js|css): load() walks it and keeps each regular file's bytes under its URL
// path. A request is answered only from that map, so no path of a request (`..`, `%2e%2e`,
// symlinks, absolute paths) can reach a file outside the directory: there is no file-system
// lookup per request. Files under assets/ carry a content hash in their names (Vite) and are
// cached for a year as immutable; index.html is revalidated every time (no-cache) so that a
// new build is picked up at the next page load after a restart.
//
// Where the directory is (find_web_dir): [http] web_dir when set; else the installed copy
// (<exe>/../share/flowscope/web, then FLOWSCOPE_WEB_INSTALL_DIR, the CMake install DATADIR);
// else the build tree's web/dist (FLOWSCOPE_WEB_BUILD_DIR), for `make run` and the tests.
// Threads: load() once; lookup() from any thread (the map is immutable after load).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace flowscope::server {

struct WebFile {
  std::string content;
  std::string content_type;
  bool immutable = false;  // a hashed asset: cache for a year
};

class WebFiles {
 public:
  // Every regular file under `dir` (at most 64 MiB in all). REQUIRES: dir/index.html exists.
  static Result<WebFiles> load(const std::filesystem::path& dir);
  // The file of a URL path ("/" is index.html); null when there is none.
  const WebFile* lookup(std::string_view url_path) const;
  const std::filesystem::path& dir() const { return dir_; }
  std::size_t size() const { return files_.size(); }

 private:
  std::filesystem::path dir_;
  std::map<std::string, WebFile, std::less<>> files_;  // "/index.html", "/assets/x.js"
};

// The directory to serve: `configured` if not empty (an error when it has no index.html),
// else the first candidate with an index.html; nullopt when the dashboard is not built.
Result<std::optional<std::filesystem::path>> find_web_dir(const std::filesystem::path& configured);

// The Content-Type of a file name (by extension; application/octet-stream when unknown).
std::string_view content_type_of(std::string_view name);

}  // namespace flowscope::server
