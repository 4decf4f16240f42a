#include "query/output.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "query/executor_support.h"

namespace flowscope::query {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// An aligned text table: columns as wide as their widest cell, two spaces apart, numbers
// right-aligned.
class Table {
 public:
  Table(std::vector<std::string> headers, std::vector<bool> right)
      : headers_(std::move(headers)), right_(std::move(right)) {}
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void write(std::ostream& out) const {
    std::vector<std::size_t> width(headers_.size());
    for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = headers_[c].size();
    for (const auto& r : rows_) {
      for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
      std::string s;
      for (std::size_t c = 0; c < cells.size(); ++c) {
        const std::size_t pad = width[c] - cells[c].size();
        if (c > 0) s += "  ";
        if (right_[c]) s.append(pad, ' ');
        s += cells[c];
        if (!right_[c] && c + 1 < cells.size()) s.append(pad, ' ');
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out << s << '\n';
    };
    line(headers_);
    for (const auto& r : rows_) line(r);
  }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

bool right_aligned(FieldId f) {
  const FieldType t = field_info(f).type;
  return is_numeric(t) && t != FieldType::Time;
}

// A stored value as JSON, typed as every JSON output types it: counters, ports and durations as
// numbers, times, addresses, protocols and text as their text. REQUIRES: col.valid(row).
nlohmann::json json_cell(const Column& col, std::size_t row, const FieldFormatOptions& opt) {
  const FieldType type = col.info().type;
  if (is_numeric(type) && type != FieldType::Time) {
    if (type == FieldType::U64) return static_cast<std::uint64_t>(integer_at(col, row));
    return *numeric_field(col, row);
  }
  return format_field(col, row, opt);
}

template <RecordKind K>
void json_value(nlohmann::json& obj, std::string_view name, const Batch<K>& batch, FieldId f,
                std::size_t row, const FieldFormatOptions& opt) {
  if constexpr (K == RecordKind::Session) {
    const FieldInfo& info = field_info(f);
    if (info.kind == FieldKind::Sum || info.kind == FieldKind::Diff) {
      if (auto v = derived_value(batch, f, row)) obj[std::string(name)] = *v;
      return;
    }
  }
  const Column& col = batch.column(f);
  if (!col.valid(row)) return;
  obj[std::string(name)] = json_cell(col, row, opt);
}

template <RecordKind K>
class CellWriter : public RecordWriter<K> {
 public:
  CellWriter(std::ostream& out, std::vector<FieldId> fields, OutputOptions options)
      : out_(out), fields_(std::move(fields)), options_(std::move(options)) {
    std::vector<std::string> headers;
    std::vector<bool> right;
    for (FieldId f : fields_) {
      const std::string name(field_info(f).name);
      const bool table = options_.format == OutputFormat::Table;
      headers.push_back(table && options_.table_upper_headers ? upper(name) : name);
      right.push_back(right_aligned(f));
    }
    if (options_.format == OutputFormat::Table) table_.emplace(headers, right);
    if (options_.format == OutputFormat::CsvHeader) out_ << csv_line(headers);
  }
  void write(const Batch<K>& batch) override {
    std::vector<std::string> cells(fields_.size());
    // One write per batch: text is built in a reused buffer, not streamed value by value.
    buffer_.clear();
    for (std::size_t r = 0; r < batch.size(); ++r) {
      if (options_.format == OutputFormat::JsonLines) {
        nlohmann::json obj = nlohmann::json::object();
        for (FieldId f : fields_) json_value(obj, field_info(f).name, batch, f, r, options_.field);
        buffer_ += obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        buffer_ += '\n';
        continue;
      }
      for (std::size_t c = 0; c < fields_.size(); ++c) {
        cells[c] = field_text(batch, fields_[c], r, options_.field);
      }
      if (table_) {
        for (std::string& cell : cells) {
          if (cell.empty()) cell = options_.table_absent;
        }
        table_->add(cells);
      } else {
        buffer_ += csv_line(cells);
      }
    }
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  }
  void finish() override {
    if (table_) table_->write(out_);
    out_.flush();
  }
  const std::vector<FieldId>& fields() const override { return fields_; }

 private:
  std::ostream& out_;
  std::vector<FieldId> fields_;
  OutputOptions options_;
  std::optional<Table> table_;
  std::string buffer_;
};

// "%cln_addr:%{srv_port} %% %TOTBYTS": literal text and fields.
template <RecordKind K>
class TemplateWriter : public RecordWriter<K> {
 public:
  struct Part {
    std::string literal;
    std::optional<FieldId> field;
  };
  TemplateWriter(std::ostream& out, std::vector<Part> parts, OutputOptions options)
      : out_(out), parts_(std::move(parts)), options_(std::move(options)) {
    for (const Part& p : parts_) {
      if (p.field) fields_.push_back(*p.field);
    }
  }
  static Result<std::vector<Part>> parse(std::string_view fmt_text) {
    std::vector<Part> parts;
    std::string literal;
    for (std::size_t i = 0; i < fmt_text.size(); ++i) {
      if (fmt_text[i] != '%') {
        literal.push_back(fmt_text[i]);
        continue;
      }
      if (i + 1 < fmt_text.size() && fmt_text[i + 1] == '%') {
        literal.push_back('%');
        ++i;
        continue;
      }
      std::size_t start = i + 1;
      std::size_t end = start;
      bool braced = start < fmt_text.size() && fmt_text[start] == '{';
      if (braced) {
        ++start;
        end = fmt_text.find('}', start);
        if (end == std::string_view::npos) {
          return Error(ErrorCode::Parse, "'%{' is never closed; expected '}'", SourcePos{i, 0});
        }
      } else {
        while (end < fmt_text.size() &&
               (std::isalnum(static_cast<unsigned char>(fmt_text[end])) || fmt_text[end] == '_')) {
          ++end;
        }
      }
      const std::string_view name = fmt_text.substr(start, end - start);
      auto f = parse_record_field(name, K);
      if (name.empty() || !f) {
        return Error(ErrorCode::Parse,
                     fmt::format("format: \"%{}\" does not name a {} field{}", name,
                                 record_kind_name(K), f ? "" : "; " + f.error().message),
                     SourcePos{i, 0});
      }
      parts.push_back({literal, std::nullopt});
      literal.clear();
      parts.push_back({"", *f});
      i = braced ? end : end - 1;
    }
    parts.push_back({literal, std::nullopt});
    return parts;
  }
  void write(const Batch<K>& batch) override {
    std::string line;
    for (std::size_t r = 0; r < batch.size(); ++r) {
      line.clear();
      for (const Part& p : parts_) {
        if (p.field) {
          line += field_text(batch, *p.field, r, options_.field);
        } else {
          line += p.literal;
        }
      }
      line.push_back('\n');
      out_ << line;
    }
  }
  void finish() override { out_.flush(); }
  const std::vector<FieldId>& fields() const override { return fields_; }

 private:
  std::ostream& out_;
  std::vector<Part> parts_;
  OutputOptions options_;
  std::vector<FieldId> fields_;
};

std::string count_label(const StatSpec& spec) {
  std::string label;
  switch (spec.count) {
    case CountKind::Bytes: label = "bytes"; break;
    case CountKind::Packets: label = "packets"; break;
    case CountKind::Sessions: label = "sessions"; break;
    case CountKind::Unique:
      label = "unique_" + std::string(field_info(spec.unique_field).name);
      break;
  }
  if (spec.side == Side::Send && spec.count != CountKind::Sessions &&
      spec.count != CountKind::Unique) {
    label += "_sent";
  }
  if (spec.side == Side::Receive && spec.count != CountKind::Sessions &&
      spec.count != CountKind::Unique) {
    label += "_received";
  }
  return label;
}

std::string key_label(const GroupKey& k) {
  std::string label = group_key_text(k);
  if (auto slash = label.find('/'); slash != std::string::npos) label.resize(slash);
  return label;
}

// Group item `k` of stat row `r` as JSON: typed as json_cell types it, networks as their text
// ("10.1.2.0/24"), null when absent.
nlohmann::json stat_key_json(const StatResult& result, std::size_t k, std::size_t r,
                             const FieldFormatOptions& options) {
  const GroupKey& key = result.group_by[k];
  const Column& col = result.keys.column(key_column(key));
  if (!col.valid(r)) return nullptr;
  if (col.info().type == FieldType::Ip) return stat_key_text(result, k, r, options);
  return json_cell(col, r, options);
}

}  // namespace

std::string stat_key_text(const StatResult& result, std::size_t k, std::size_t row,
                          const FieldFormatOptions& options) {
  const GroupKey& key = result.group_by[k];
  const Column& col = result.keys.column(key_column(key));
  FieldFormatOptions opt = options;
  if (col.valid(row) && col.info().type == FieldType::Ip) {
    const IpAddress& a = col.vec<IpAddress>()[row];
    // A network has no name: only whole addresses are named.
    if ((a.is_v4() && key.v4_prefix < 32) || (!a.is_v4() && key.v6_prefix < 128)) {
      opt.names = nullptr;
    }
  }
  std::string text = format_field(col, row, opt);
  if (col.valid(row) && col.info().type == FieldType::Ip) {
    const IpAddress& a = col.vec<IpAddress>()[row];
    if (a.is_v4() && key.v4_prefix < 32) text.append(fmt::format("/{}", key.v4_prefix));
    if (!a.is_v4() && key.v6_prefix < 128) text.append(fmt::format("/{}", key.v6_prefix));
  }
  return text;
}

Result<OutputOptions> parse_output_format(std::string_view text) {
  OutputOptions o;
  if (text == "table") {
    o.format = OutputFormat::Table;
  } else if (text == "csv") {
    o.format = OutputFormat::Csv;
  } else if (text == "csv+") {
    o.format = OutputFormat::CsvHeader;
  } else if (text == "json") {
    o.format = OutputFormat::JsonLines;
  } else if (text.starts_with("fmt:")) {
    o.format = OutputFormat::Template;
    o.format_string = std::string(text.substr(4));
  } else {
    return Error{
        ErrorCode::InvalidArgument,
        fmt::format("output format \"{}\": use table, csv, csv+, json or fmt:<format>", text)};
  }
  return o;
}

std::string field_text(const SessionBatch& batch, FieldId field, std::size_t row,
                       const FieldFormatOptions& options) {
  const FieldInfo& info = field_info(field);
  if (info.kind == FieldKind::Sum || info.kind == FieldKind::Diff) {
    auto v = derived_value(batch, field, row);
    if (!v) return "";
    if (info.type == FieldType::Duration) return format_duration(DurationMs(*v));
    return std::to_string(static_cast<std::uint64_t>(*v));
  }
  return format_field(batch.column(field), row, options);
}

std::string field_text(const FlowBatch& batch, FieldId field, std::size_t row,
                       const FieldFormatOptions& options) {
  return format_field(batch.column(field), row, options);
}

template <RecordKind K>
Result<std::unique_ptr<RecordWriter<K>>> RecordWriter<K>::create(std::ostream& out,
                                                                 std::vector<FieldId> fields,
                                                                 const OutputOptions& options) {
  if (options.format == OutputFormat::Template) {
    auto parts = TemplateWriter<K>::parse(options.format_string);
    if (!parts) return parts.error();
    return std::unique_ptr<RecordWriter<K>>(new TemplateWriter<K>(out, std::move(*parts), options));
  }
  return std::unique_ptr<RecordWriter<K>>(new CellWriter<K>(out, std::move(fields), options));
}

template class RecordWriter<RecordKind::Session>;
template class RecordWriter<RecordKind::Flow>;

void write_stat(std::ostream& out, const StatSpec& spec, const StatResult& result,
                const OutputOptions& options) {
  const bool series = !result.buckets.empty();
  const std::string value_label = count_label(spec);
  const std::size_t nkeys = result.group_by.size();
  const std::size_t nb = result.buckets.size();

  if (options.format == OutputFormat::JsonLines) {
    auto row_json = [&](nlohmann::json obj, const StatValues& v, std::size_t series_row) {
      obj[value_label] = v.value;
      obj["sessions"] = v.sessions;
      obj["bytes"] = v.bytes;
      obj["packets"] = v.packets;
      if (series) {
        obj["series"] = nlohmann::json::array();
        for (std::size_t b = 0; b < nb; ++b) {
          obj["series"].push_back(
              {{"time", format_time(time_from_ms(result.buckets[b]), options.field.zone)},
               {"value", result.series[series_row * nb + b]}});
        }
      }
      out << obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    };
    for (std::size_t r = 0; r < result.rows.size(); ++r) {
      nlohmann::json obj = nlohmann::json::object();
      obj["rank"] = r + 1;
      for (std::size_t k = 0; k < nkeys; ++k) {
        obj[key_label(result.group_by[k])] = stat_key_json(result, k, r, options.field);
      }
      row_json(std::move(obj), result.rows[r], r);
    }
    if (nkeys > 0) {
      row_json({{"others", true}, {"groups", result.other_groups}}, result.others,
               result.rows.size());
    }
    nlohmann::json total = {{"total", true}, {"groups", result.total_groups}};
    total[value_label] = result.total.value;
    total["sessions"] = result.total.sessions;
    total["bytes"] = result.total.bytes;
    total["packets"] = result.total.packets;
    if (result.saturated) total["saturated"] = true;
    if (result.missing) total["missing"] = missing_json(*result.missing, options.field.zone);
    out << total.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    out.flush();
    return;
  }

  const bool table =
      options.format == OutputFormat::Table || options.format == OutputFormat::Template;
  auto label = [&](std::string s) { return table ? upper(s) : s; };
  // Without groups there is one row, the totals: no rank.
  const bool ranked = nkeys > 0;
  // The totals beside the counted value, leaving out the one that is the value.
  std::vector<std::pair<const char*, std::uint64_t StatValues::*>> extra;
  if (spec.count != CountKind::Sessions) extra.push_back({"sessions", &StatValues::sessions});
  if (spec.count != CountKind::Bytes) extra.push_back({"bytes", &StatValues::bytes});
  if (spec.count != CountKind::Packets) extra.push_back({"packets", &StatValues::packets});
  std::vector<std::string> headers;
  std::vector<bool> right;
  if (ranked) {
    headers.push_back(label("rank"));
    right.push_back(true);
  }
  for (const GroupKey& k : result.group_by) {
    headers.push_back(label(key_label(k)));
    right.push_back(right_aligned(key_column(k)));
  }
  if (series) {
    headers.push_back(label("time"));
    right.push_back(false);
    headers.push_back(label(value_label));
    right.push_back(true);
  } else {
    headers.push_back(label(value_label));
    right.push_back(true);
    for (const auto& [name, member] : extra) {
      headers.push_back(label(name));
      right.push_back(true);
    }
  }
  std::vector<std::vector<std::string>> rows;
  auto emit = [&](std::string rank, std::vector<std::string> keys, const StatValues& v,
                  std::size_t series_row) {
    if (series) {
      for (std::size_t b = 0; b < nb; ++b) {
        std::vector<std::string> cells;
        if (ranked) cells.push_back(rank);
        cells.insert(cells.end(), keys.begin(), keys.end());
        cells.push_back(format_time(time_from_ms(result.buckets[b]), options.field.zone));
        cells.push_back(std::to_string(result.series[series_row * nb + b]));
        rows.push_back(std::move(cells));
      }
      return;
    }
    std::vector<std::string> cells;
    if (ranked) cells.push_back(rank);
    cells.insert(cells.end(), keys.begin(), keys.end());
    cells.push_back(std::to_string(v.value));
    for (const auto& [name, member] : extra) cells.push_back(std::to_string(v.*member));
    rows.push_back(std::move(cells));
  };
  for (std::size_t r = 0; ranked && r < result.rows.size(); ++r) {
    std::vector<std::string> keys;
    for (std::size_t k = 0; k < nkeys; ++k)
      keys.push_back(stat_key_text(result, k, r, options.field));
    emit(std::to_string(r + 1), std::move(keys), result.rows[r], r);
  }
  if (!ranked && series) emit("", {}, result.total, 0);
  if (result.other_groups > 0) {
    std::vector<std::string> keys(nkeys, "");
    if (nkeys > 0) keys[0] = fmt::format("others ({} groups)", result.other_groups);
    emit("", std::move(keys), result.others, result.rows.size());
  }
  if (!series) {
    std::vector<std::string> keys(nkeys, "");
    if (nkeys > 0) keys[0] = fmt::format("total ({} groups)", result.total_groups);
    emit("", std::move(keys), result.total, 0);
  }
  if (table) {
    Table t(headers, right);
    for (auto& r : rows) t.add(std::move(r));
    t.write(out);
    if (result.saturated) out << kSaturatedNote << '\n';
  } else {
    if (options.format == OutputFormat::CsvHeader) out << csv_line(headers);
    for (const auto& r : rows) out << csv_line(r);
  }
  out.flush();
}

}  // namespace flowscope::query
