#pragma once
// Escaping text for XML and HTML attribute or element content: the five predefined entities.
// Header-only, pure; any thread. tcpflow's DFXML writes a quote as &apos; (and our report must
// match its bytes); HTML pages use &#39;, which HTML 4 also understands.

#include <string>
#include <string_view>

namespace flowscope {

enum class Apostrophe { Apos, Numeric };  // &apos; or &#39;

inline std::string xml_escape(std::string_view s, Apostrophe apostrophe = Apostrophe::Apos) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += apostrophe == Apostrophe::Apos ? "&apos;" : "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace flowscope
