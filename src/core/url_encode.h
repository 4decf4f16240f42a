#pragma once
// Percent-encoding of a URL query value (RFC 3986: the unreserved characters A-Z a-z 0-9 - _ . ~
// stay, every other byte becomes %XX). One implementation for the ClickHouse client, the HTTP
// API's links and the tests that build requests.
#include <string>
#include <string_view>

namespace flowscope {

std::string url_encode(std::string_view s);

}  // namespace flowscope
