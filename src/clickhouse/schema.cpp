#include "clickhouse/schema.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace flowscope::clickhouse {
namespace {

std::span<const FieldId> stored_fields() { return fields_of(RecordKind::Session, true); }

std::string quoted(std::string_view name) { return fmt::format("`{}`", name); }

// One cell of a batch, by type, with the raw vectors looked up once per batch.
struct Source {
  FieldType type;
  const void* data = nullptr;
  const StringColumn* strings = nullptr;
};

Source source_of(const Column& col) {
  Source s{col.info().type};
  std::visit(
      [&](const auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          s.strings = &d;
        } else {
          s.data = d.data();
        }
      },
      col.data());
  return s;
}

template <typename T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Bounds-checked reads from a RowBinary body; on overrun returns zeros and sets failed.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool failed() const { return failed_; }
  bool done() const { return pos_ == data_.size(); }
  std::size_t pos() const { return pos_; }
  template <typename T>
  T get() {
    T v{};
    if (data_.size() - pos_ < sizeof(T)) {
      failed_ = true;
      pos_ = data_.size();
      return v;
    }
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view bytes(std::uint64_t n) {
    if (data_.size() - pos_ < n) {
      failed_ = true;
      pos_ = data_.size();
      return {};
    }
    std::string_view s = data_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const auto b = get<std::uint8_t>();
      if (failed_) return 0;
      v |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    failed_ = true;  // more than 10 bytes: not a varint ClickHouse writes
    return 0;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace

std::string_view column_type(FieldType type) {
  switch (type) {
    case FieldType::Ip: return "FixedString(16)";
    case FieldType::U8:
    case FieldType::TcpFlags:
    case FieldType::Proto: return "UInt8";
    case FieldType::U16: return "UInt16";
    case FieldType::U32: return "UInt32";
    case FieldType::U64: return "UInt64";
    case FieldType::Time:
    case FieldType::Duration: return "Int64";
    case FieldType::Country: return "FixedString(2)";
    case FieldType::String: return "String";
  }
  return "String";
}

std::string value_column(FieldId field) {
  const FieldInfo& f = field_info(field);
  return f.type == FieldType::Ip ? quoted(fmt::format("{}_v6", f.name)) : quoted(f.name);
}

std::string valid_expr(FieldId field) {
  const int index = SessionBatch::column_index(field);
  return fmt::format("bitAnd(_v{}, {}) != 0", index / 64, std::uint64_t{1} << (index % 64));
}

std::string column_definitions() {
  std::string out = "_seq UInt64";
  for (std::size_t w = 0; w < kValidWords; ++w) out += fmt::format(",\n  _v{} UInt64", w);
  for (FieldId id : stored_fields()) {
    const FieldInfo& f = field_info(id);
    if (f.type == FieldType::Ip) {
      out += fmt::format(",\n  {} UInt32", quoted(fmt::format("{}_v4", f.name)));
    }
    out += fmt::format(",\n  {} {}", value_column(id), column_type(f.type));
  }
  return out;
}

std::string insert_columns() {
  std::string out = "_seq";
  for (std::size_t w = 0; w < kValidWords; ++w) out += fmt::format(", _v{}", w);
  for (FieldId id : stored_fields()) {
    const FieldInfo& f = field_info(id);
    if (f.type == FieldType::Ip) out += fmt::format(", {}", quoted(fmt::format("{}_v4", f.name)));
    out += ", " + value_column(id);
  }
  return out;
}

std::string field_layout() {
  std::vector<std::pair<int, std::string_view>> columns;
  for (FieldId id : stored_fields()) {
    columns.emplace_back(SessionBatch::column_index(id), field_info(id).name);
  }
  std::sort(columns.begin(), columns.end());
  std::string out;
  for (const auto& [index, name] : columns) {
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::string create_layout_table(const TableNames& t) {
  return fmt::format("CREATE TABLE IF NOT EXISTS {}.flowscope_layout (fields String) ENGINE = Log",
                     t.database);
}

std::string create_local_table(const TableNames& t) {
  // Day partitions, named by days since 1970 (UTC whatever the server's time zone; retention
  // drops them); the sort key is time, then addresses, so time windows and host filters prune
  // granules. start_time before 1970 (or absent) goes to day 0.
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.{} (\n  {}\n) ENGINE = MergeTree()\n"
      "PARTITION BY intDiv(greatest(start_time, 0), 86400000)\n"
      "ORDER BY (start_time, cln_addr_v4, srv_addr_v4)\nSETTINGS index_granularity = 8192",
      t.database, t.local, column_definitions());
}

std::string create_distributed_table(const TableNames& t) {
  return fmt::format("CREATE TABLE IF NOT EXISTS {}.{} AS {}.{} ENGINE = Distributed({}, {}, {})",
                     t.database, t.distributed, t.database, t.local, t.cluster, t.database,
                     t.local);
}

std::string create_version_table(const TableNames& t) {
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.flowscope_schema (version UInt32, applied DateTime) "
      "ENGINE = TinyLog",
      t.database);
}

void encode_rows(const SessionBatch& batch, std::span<const std::uint32_t> rows,
                 std::uint64_t seq_base, std::string& out) {
  const auto fields = stored_fields();
  std::vector<Source> sources;
  std::vector<const Column*> columns;
  std::vector<std::size_t> bit;  // the column's validity bit (column_index is a registry walk)
  sources.reserve(fields.size());
  for (FieldId id : fields) {
    columns.push_back(&batch.column(id));
    sources.push_back(source_of(batch.column(id)));
    bit.push_back(static_cast<std::size_t>(SessionBatch::column_index(id)));
  }
  out.reserve(out.size() + rows.size() * 120);
  for (const std::uint32_t row : rows) {
    put(out, seq_base + row);
    std::uint64_t words[kValidWords] = {};
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (columns[c]->valid(row)) words[bit[c] / 64] |= std::uint64_t{1} << (bit[c] % 64);
    }
    for (std::uint64_t w : words) put(out, w);
    for (std::size_t c = 0; c < fields.size(); ++c) {
      const Source& s = sources[c];
      switch (s.type) {
        case FieldType::Ip: {
          const IpAddress& a = static_cast<const IpAddress*>(s.data)[row];
          put<std::uint32_t>(out, a.is_v4() ? a.v4_value() : 0);
          out.append(reinterpret_cast<const char*>(a.bytes().data()), 16);
          break;
        }
        case FieldType::U8:
        case FieldType::TcpFlags:
        case FieldType::Proto: put(out, static_cast<const std::uint8_t*>(s.data)[row]); break;
        case FieldType::U16: put(out, static_cast<const std::uint16_t*>(s.data)[row]); break;
        case FieldType::U32: put(out, static_cast<const std::uint32_t*>(s.data)[row]); break;
        case FieldType::U64: put(out, static_cast<const std::uint64_t*>(s.data)[row]); break;
        case FieldType::Time:
        case FieldType::Duration: put(out, static_cast<const std::int64_t*>(s.data)[row]); break;
        case FieldType::Country: {
          const CountryCode& cc = static_cast<const CountryCode*>(s.data)[row];
          out.append(cc.code.data(), 2);
          break;
        }
        case FieldType::String: {
          const std::string_view text = s.strings->get(row);
          put_varint(out, text.size());
          out.append(text);
          break;
        }
      }
    }
  }
}

Result<std::size_t> decode_rows(std::string_view body, std::span<const ResultItem> items,
                                std::size_t aux_count, SessionBatch& out,
                                std::vector<std::uint64_t>& aux, std::size_t max_rows,
                                std::size_t* consumed) {
  Reader r(body);
  bool has_valid = false;
  for (const ResultItem& it : items) {
    if (it.kind == ResultItem::Kind::Valid) has_valid = true;
    if (it.kind == ResultItem::Kind::Valid && it.index >= kValidWords) {
      return Error{ErrorCode::InvalidArgument, "validity word out of range"};
    }
    if (it.kind == ResultItem::Kind::Aux && it.index >= aux_count) {
      return Error{ErrorCode::InvalidArgument, "aux column out of range"};
    }
    if (it.kind == ResultItem::Kind::Field && SessionBatch::column_index(it.field) < 0) {
      return Error{ErrorCode::InvalidArgument, "not a stored session field"};
    }
  }
  // Per item, its column and validity bit, looked up once (column_index walks the registry).
  std::vector<Column*> cols(items.size(), nullptr);
  std::vector<int> bits(items.size(), 0);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].kind != ResultItem::Kind::Field) continue;
    cols[i] = &out.mutable_column(items[i].field);
    bits[i] = SessionBatch::column_index(items[i].field);
  }
  std::size_t rows = 0;
  std::uint64_t words[kValidWords] = {};
  while (!r.done() && rows < max_rows) {
    const std::size_t start = r.pos();
    const std::size_t row = out.add_row();
    const std::size_t aux_base = aux.size();
    aux.resize(aux.size() + aux_count, 0);
    for (std::size_t i = 0; i < items.size(); ++i) {
      const ResultItem& it = items[i];
      switch (it.kind) {
        case ResultItem::Kind::Valid: words[it.index] = r.get<std::uint64_t>(); break;
        case ResultItem::Kind::Aux: aux[aux_base + it.index] = r.get<std::uint64_t>(); break;
        case ResultItem::Kind::Field: {
          Column& col = *cols[i];
          switch (col.info().type) {
            case FieldType::Ip: {
              const std::string_view b = r.bytes(16);
              if (r.failed()) break;
              IpAddress::Bytes bytes;
              std::memcpy(bytes.data(), b.data(), 16);
              col.vec<IpAddress>()[row] = IpAddress(bytes);
              break;
            }
            case FieldType::U8:
            case FieldType::TcpFlags:
            case FieldType::Proto: col.vec<std::uint8_t>()[row] = r.get<std::uint8_t>(); break;
            case FieldType::U16: col.vec<std::uint16_t>()[row] = r.get<std::uint16_t>(); break;
            case FieldType::U32: col.vec<std::uint32_t>()[row] = r.get<std::uint32_t>(); break;
            case FieldType::U64: col.vec<std::uint64_t>()[row] = r.get<std::uint64_t>(); break;
            case FieldType::Time:
            case FieldType::Duration: col.vec<std::int64_t>()[row] = r.get<std::int64_t>(); break;
            case FieldType::Country: {
              const std::string_view b = r.bytes(2);
              if (r.failed()) break;
              CountryCode cc;
              cc.code = {b[0], b[1]};
              col.vec<CountryCode>()[row] = cc;
              break;
            }
            case FieldType::String: {
              const std::uint64_t n = r.varint();
              const std::string_view text = r.bytes(n);
              if (!r.failed()) col.strings().set(row, text);
              break;
            }
          }
          break;
        }
      }
      if (r.failed()) break;
    }
    if (r.failed()) {
      // ClickHouse 18.16 reports an error found after streaming began inside the 200 body.
      const std::size_t at = body.rfind("Code: ");
      if (at != std::string_view::npos && at >= start) {
        const ServerError e = parse_server_error(body.substr(at));
        if (e.code >= 0) {
          return Error{ErrorCode::Io,
                       fmt::format("ClickHouse failed while sending the result: {} (code {})",
                                   e.message, e.code)};
        }
      }
      return Error{ErrorCode::Corruption,
                   fmt::format("ClickHouse result ends inside row {} (byte {} of {})", rows, start,
                               body.size())};
    }
    // Validity: from the result's words, or every selected field present.
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (cols[i] == nullptr) continue;
      const int idx = bits[i];
      if (!has_valid || ((words[idx / 64] >> (idx % 64)) & 1u)) cols[i]->mark_valid(row);
    }
    ++rows;
  }
  if (consumed != nullptr) *consumed = r.pos();
  return rows;
}

ServerError parse_server_error(std::string_view body) {
  ServerError e;
  if (!body.starts_with("Code: ")) return e;
  int code = 0;
  const char* begin = body.data() + 6;
  auto [p, ec] = std::from_chars(begin, body.data() + body.size(), code);
  if (ec != std::errc{}) return e;
  e.code = code;
  std::string_view rest = body.substr(static_cast<std::size_t>(p - body.data()));
  constexpr std::string_view kMarker = "DB::Exception: ";
  if (auto at = rest.find(kMarker); at != std::string_view::npos) {
    rest = rest.substr(at + kMarker.size());
  } else if (rest.starts_with(", ")) {
    rest.remove_prefix(2);
  }
  if (auto end = rest.find(", e.what() = "); end != std::string_view::npos) {
    rest = rest.substr(0, end);
  }
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  e.message = std::string(rest.substr(0, 2000));
  return e;
}

std::string sql_string(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace flowscope::clickhouse
