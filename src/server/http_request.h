#pragma once
// Parsing what HTTP clients send, independent of the HTTP library (so that it can be fuzzed on
// its own, src/server/fuzz/http_request_fuzzer.cpp): query strings and url-encoded form bodies
// (RFC 3986 §2.1 percent-encoding, '+' as a space as HTML forms send it), the bracket notation
// that jQuery, Angular and PHP use for nested objects (`data_requested[inbound][graph]=all`),
// and JSON-valued parameters (`rpt_json={...}`, Scrutinizer's style).
//
// Malformed input is an Error naming the parameter and the byte; nothing here throws. Pure
// functions; any thread.
// Internal to flowscope_server: other modules use its public headers.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace flowscope::server {

// Name/value pairs in the order they came; a name may repeat.
using Params = std::vector<std::pair<std::string, std::string>>;

// Bounds on what one request may carry (a form is held in memory while it is parsed).
inline constexpr std::size_t kMaxParams = 1024;
inline constexpr std::size_t kMaxBracketDepth = 16;

// "a=1&b=x%20y&c" -> {a: 1, b: "x y", c: ""}. Errors: a bad %XX escape, too many parameters.
Result<Params> parse_query_string(std::string_view text);

// The first value of `name`, or null.
const std::string* find_param(const Params& params, std::string_view name);

// A parameter that holds JSON: `name=<JSON text>` (parsed; an error gives the byte of the
// syntax error), else the bracket form `name[a][b]=v` as nested objects (values stay strings,
// `name[a][]=v` appends to an array), else null when absent.
Result<nlohmann::json> json_param(const Params& params, std::string_view name);

// `value` as JSON text for messages and answers. Strings from forms are bytes, not checked
// UTF-8: invalid sequences become U+FFFD instead of nlohmann's exception.
std::string json_text(const nlohmann::json& value);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD (stored names come from exporters
// and may be any bytes; JSON answers must be UTF-8).
std::string valid_utf8(std::string_view text);

// A JSON value that may be a number or a numeric string (forms carry only strings): the integer,
// or an error naming `what`. Accepts 0 .. `max`.
Result<std::uint64_t> json_uint(const nlohmann::json& value, std::string_view what,
                                std::uint64_t max);

}  // namespace flowscope::server
