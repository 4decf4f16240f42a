#pragma once
// One ClickHouse server over its HTTP interface (cpp-httplib): statements, SELECTs returning
// their body, and RowBinary inserts. Errors name the URL, what ClickHouse said (its "Code: N"
// body, parsed with schema.h parse_server_error) and what to check.
// A ShardClient is a plain value; each call opens its own connection, so calls may run on any
// number of threads at once.
// Internal to flowscope_clickhouse: other modules use its public headers.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace flowscope::clickhouse {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 8123;
  std::string user = "default";
  std::string password;
  std::string database = "default";
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{60000};
  std::string url() const;  // "http://127.0.0.1:8123"
};

// Parses "host:port" (port defaults to 8123).
Result<Endpoint> parse_endpoint(std::string_view text);

// The (first, second) columns of each line of a TabSeparated body (views into `body`; lines
// without a tab are skipped). For the names and numbers that flowscope's own SELECTs return,
// which need no unescaping.
std::vector<std::pair<std::string_view, std::string_view>> tsv_pairs(std::string_view body);

class ShardClient {
 public:
  explicit ShardClient(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}
  const Endpoint& endpoint() const { return endpoint_; }

  // Runs one statement (the SQL is the POST body); returns the response body.
  Result<std::string> query(std::string_view sql) const;
  // INSERT INTO `table` (columns) FORMAT RowBinary with `data` as the body.
  Result<void> insert(std::string_view table, std::string_view columns,
                      std::string_view data) const;
  // GET /ping answers "Ok.".
  bool ping() const;

 private:
  Result<std::string> post(const std::string& path, std::string_view body,
                           std::string_view what) const;
  Endpoint endpoint_;
};

}  // namespace flowscope::clickhouse
