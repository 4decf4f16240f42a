#include "clickhouse/shard_client.h"

#include <charconv>

#include <fmt/format.h>
#include <httplib.h>

#include "clickhouse/schema.h"
#include "core/url_encode.h"

namespace flowscope::clickhouse {

std::string Endpoint::url() const { return fmt::format("http://{}:{}", host, port); }

std::vector<std::pair<std::string_view, std::string_view>> tsv_pairs(std::string_view body) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    const auto tab = line.find('\t');
    if (tab != std::string_view::npos) out.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return out;
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint e;
  const auto colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (host.empty()) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("ClickHouse shard \"{}\" has no host; use host:port, e.g. "
                             "127.0.0.1:8123",
                             text)};
  }
  e.host = std::string(host);
  if (colon != std::string_view::npos) {
    const std::string_view p = text.substr(colon + 1);
    int port = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port <= 0 || port > 65535) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("ClickHouse shard \"{}\": port \"{}\" is not 1-65535 (the HTTP "
                               "port, 8123 by default)",
                               text, p)};
    }
    e.port = port;
  }
  return e;
}

Result<std::string> ShardClient::post(const std::string& path, std::string_view body,
                                      std::string_view what) const {
  httplib::Client cli(endpoint_.host, endpoint_.port);
  const auto ct = endpoint_.connect_timeout.count();
  const auto rt = endpoint_.timeout.count();
  cli.set_connection_timeout(ct / 1000, (ct % 1000) * 1000);
  cli.set_read_timeout(rt / 1000, (rt % 1000) * 1000);
  cli.set_write_timeout(rt / 1000, (rt % 1000) * 1000);
  httplib::Headers headers = {{"X-ClickHouse-User", endpoint_.user},
                              {"X-ClickHouse-Key", endpoint_.password}};
  auto res = cli.Post(path.c_str(), headers, body.data(), body.size(), "application/octet-stream");
  if (!res) {
    return Error{
        ErrorCode::Io,
        fmt::format("ClickHouse at {} unreachable ({}) during {}; check that "
                    "clickhouse-server runs there (curl {}/ping) and the shard list "
                    "in the config",
                    endpoint_.url(), httplib::to_string(res.error()), what, endpoint_.url())};
  }
  if (res->status != 200) {
    const ServerError e = parse_server_error(res->body);
    std::string hint;
    if (res->status == 401 || e.code == 193 || e.code == 192) {
      hint = "; check the user and password of the ClickHouse shards";
    } else if (e.code == 60 || e.code == 81) {
      hint = "; run `flowscope store init clickhouse://...` or check the database name";
    }
    return Error{
        ErrorCode::Io,
        fmt::format("ClickHouse at {} refused {} (HTTP {}{}): {}{}", endpoint_.url(), what,
                    res->status, e.code >= 0 ? fmt::format(", code {}", e.code) : std::string(),
                    e.code >= 0 ? e.message : res->body.substr(0, 500), hint)};
  }
  return std::move(res->body);
}

Result<std::string> ShardClient::query(std::string_view sql) const {
  const std::string path =
      fmt::format("/?database={}&wait_end_of_query=1", url_encode(endpoint_.database));
  std::string_view what = sql.substr(0, sql.find(' '));
  return post(path, sql, fmt::format("a {} statement", what));
}

Result<void> ShardClient::insert(std::string_view table, std::string_view columns,
                                 std::string_view data) const {
  const std::string sql = fmt::format("INSERT INTO {} ({}) FORMAT RowBinary", table, columns);
  const std::string path =
      fmt::format("/?database={}&query={}", url_encode(endpoint_.database), url_encode(sql));
  auto r = post(path, data, fmt::format("an insert into {}", table));
  if (!r) return r.error();
  return ok();
}

bool ShardClient::ping() const {
  httplib::Client cli(endpoint_.host, endpoint_.port);
  cli.set_connection_timeout(1, 0);
  cli.set_read_timeout(2, 0);
  auto res = cli.Get("/ping");
  return res && res->status == 200;
}

}  // namespace flowscope::clickhouse
