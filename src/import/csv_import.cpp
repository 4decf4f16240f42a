#include "import/csv_import.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "core/csv.h"
#include "core/ip_proto.h"
#include "core/time.h"
#include "session/one_sided.h"
#include "store/batch_codec.h"

namespace flowscope::import {
namespace {

constexpr std::size_t kMaxExamples = 5;

template <typename T>
bool parse_uint(std::string_view s, T& out) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > std::numeric_limits<T>::max()) {
    return false;
  }
  out = static_cast<T>(v);
  return true;
}

// nfdump's 8-letter flags ("...A..S.", CEUAPRSF) or a number.
bool parse_flags(std::string_view s, std::uint8_t& out) {
  if (parse_uint(s, out)) return true;
  static constexpr std::string_view kLetters = "CEUAPRSF";
  if (s.size() != kLetters.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == kLetters[i]) {
      out |= static_cast<std::uint8_t>(0x80u >> i);
    } else if (s[i] != '.') {
      return false;
    }
  }
  return true;
}

// Sets `col` at `row` from text; false when the text is not a value of the column's type.
bool set_from_text(Column& col, std::size_t row, std::string_view text, const TimeContext& ctx) {
  const FieldType type = field_info(col.field()).type;
  bool good = std::visit(
      [&](auto& data) -> bool {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          data.set(row, text);
          return true;
        } else {
          using T = typename D::value_type;
          if constexpr (std::is_same_v<T, IpAddress>) {
            auto a = IpAddress::parse(text);
            if (a) data[row] = *a;
            return a.has_value();
          } else if constexpr (std::is_same_v<T, CountryCode>) {
            auto c = CountryCode::parse(text);
            if (c) data[row] = *c;
            return c.has_value();
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            std::int64_t v = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec == std::errc() && p == text.data() + text.size()) {
              data[row] = v;
              return true;
            }
            if (type != FieldType::Time) return false;
            auto t = parse_time(text, ctx);
            if (t) data[row] = to_ms(*t);
            return t.has_value();
          } else if constexpr (std::is_same_v<T, std::uint8_t>) {
            if (type == FieldType::Proto) {
              auto p = ip_proto::parse(text);
              if (p) data[row] = *p;
              return p.has_value();
            }
            if (type == FieldType::TcpFlags) return parse_flags(text, data[row]);
            return parse_uint(text, data[row]);
          } else {
            if constexpr (std::is_same_v<T, std::uint16_t>) {
              // nfdump prints an ICMP flow's destination port as "type.code"; ports hold
              // type * 256 + code (fields.def).
              if (auto dot = text.find('.'); dot != std::string_view::npos) {
                std::uint8_t icmp_type = 0;
                std::uint8_t icmp_code = 0;
                if (!parse_uint(text.substr(0, dot), icmp_type) ||
                    !parse_uint(text.substr(dot + 1), icmp_code)) {
                  return false;
                }
                data[row] = static_cast<std::uint16_t>(icmp_type * 256 + icmp_code);
                return true;
              }
            }
            return parse_uint(text, data[row]);
          }
        }
      },
      col.data());
  if (good) col.mark_valid(row);
  return good;
}

}  // namespace

Result<CsvImporter> CsvImporter::open(std::istream& in, std::string name) {
  std::string header;
  if (!std::getline(in, header)) {
    return Error{ErrorCode::Truncated, fmt::format("{}: empty file; the first line must name "
                                                   "the columns (see 'flowscope fields')",
                                                   name)};
  }
  return open(in, std::move(name), header);
}

Result<CsvImporter> CsvImporter::open(std::istream& in, std::string name,
                                      const std::string& header) {
  CsvImporter imp(in, std::move(name));
  std::vector<std::string> names;
  split_csv_line(header, names);
  // Flow names when the first name that exists in only one kind is a flow name.
  for (const std::string& n : names) {
    auto f = find_field(RecordKind::Flow, n);
    auto s = find_field(RecordKind::Session, n);
    if (f && !s) imp.flows_ = true;
    if (f.has_value() != s.has_value() || (f && s && *f != *s)) break;
  }
  const RecordKind kind = imp.flows_ ? RecordKind::Flow : RecordKind::Session;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto id = find_field(kind, names[i]);
    const bool stored = id && (imp.flows_ ? FlowBatch::column_index(*id) >= 0
                                          : SessionBatch::column_index(*id) >= 0);
    if (!stored) {
      return Error{
          ErrorCode::InvalidArgument,
          fmt::format("{}:1: column {} \"{}\" is not a stored {} field; the header "
                      "must use registry names (see 'flowscope fields --kind {}')",
                      imp.name_, i + 1, names[i], record_kind_name(kind), record_kind_name(kind)),
          SourcePos{0, 1}};
    }
    imp.columns_.push_back(*id);
  }
  return imp;
}

void CsvImporter::skip(const std::string& reason, const std::string& detail) {
  ++stats_.skipped;
  ++stats_.skipped_by_reason[reason];
  if (stats_.examples.size() < kMaxExamples) {
    stats_.examples.push_back(fmt::format("{}:{}: {}", name_, line_, detail));
  }
}

bool CsvImporter::read(SessionBatch& out, std::size_t max_rows) {
  const TimeContext ctx = TimeContext::system();
  // One row is parsed into a scratch batch and appended only when every value is good, so a
  // bad line leaves nothing behind.
  FlowBatch flow_row(1);
  SessionBatch session_row(1);
  std::vector<std::string> cells;
  std::string line;
  std::size_t added = 0;
  while (added < max_rows) {
    // A quoted value may hold line breaks (RFC 4180): a record can span lines.
    if (!read_csv_record(*in_, line, line_)) return false;
    if (line.empty() || line == "\r") continue;
    if (!split_csv_line(line, cells)) {
      skip("unclosed_quote", "a quoted value is not closed");
      continue;
    }
    if (cells.size() != columns_.size()) {
      skip("wrong_column_count",
           fmt::format("{} values for {} columns", cells.size(), columns_.size()));
      continue;
    }
    flow_row.clear();
    session_row.clear();
    const std::size_t row = flows_ ? flow_row.add_row() : session_row.add_row();
    bool good = true;
    for (std::size_t i = 0; i < cells.size() && good; ++i) {
      if (cells[i].empty()) continue;
      Column& col =
          flows_ ? flow_row.mutable_column(columns_[i]) : session_row.mutable_column(columns_[i]);
      if (!set_from_text(col, row, cells[i], ctx)) {
        good = false;
        skip("bad_value",
             fmt::format("\"{}\" is not a valid {} ({})", cells[i], field_info(columns_[i]).name,
                         type_name(field_info(columns_[i]).type)));
      }
    }
    if (!good) continue;
    if (flows_) {
      session::append_one_sided(flow_row, out);
    } else {
      const std::uint32_t first = 0;
      store::append_rows(session_row, std::span(&first, 1), out);
    }
    ++stats_.records;
    ++added;
  }
  return true;
}

}  // namespace flowscope::import
