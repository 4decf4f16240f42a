#include "core/field_registry.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace flowscope {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Levenshtein distance, case-insensitive; short strings only (field names).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

struct KindLists {
  std::vector<FieldId> all;
  std::vector<FieldId> stored;
};

KindLists make_lists(RecordKind kind) {
  KindLists lists;
  for (const FieldInfo& f : kFieldTable) {
    if (!in_kind(f, kind)) continue;
    lists.all.push_back(f.id);
    if (f.kind == FieldKind::Stored) lists.stored.push_back(f.id);
  }
  return lists;
}

const KindLists& lists_for(RecordKind kind) {
  static const KindLists kFlow = make_lists(RecordKind::Flow);
  static const KindLists kSession = make_lists(RecordKind::Session);
  return kind == RecordKind::Flow ? kFlow : kSession;
}

}  // namespace

std::string_view type_name(FieldType t) {
  switch (t) {
    case FieldType::Ip: return "ip";
    case FieldType::U8: return "u8";
    case FieldType::U16: return "u16";
    case FieldType::U32: return "u32";
    case FieldType::U64: return "u64";
    case FieldType::Time: return "time";
    case FieldType::Duration: return "duration";
    case FieldType::Country: return "country";
    case FieldType::String: return "string";
    case FieldType::TcpFlags: return "tcpflags";
    case FieldType::Proto: return "proto";
  }
  return "?";
}

std::string_view scope_name(Scope s) {
  switch (s) {
    case Scope::Flow: return "flow";
    case Scope::Session: return "session";
    case Scope::Both: return "both";
  }
  return "?";
}

std::string_view kind_name(FieldKind k) {
  switch (k) {
    case FieldKind::Stored: return "stored";
    case FieldKind::Either: return "either";
    case FieldKind::Sum: return "sum";
    case FieldKind::Diff: return "difference";
  }
  return "?";
}

std::string_view record_kind_name(RecordKind k) {
  return k == RecordKind::Flow ? "flow" : "session";
}

std::string_view comparator_symbol(Comparator c) {
  switch (c) {
    case Comparator::Eq: return "==";
    case Comparator::Ne: return "!=";
    case Comparator::Lt: return "<";
    case Comparator::Le: return "<=";
    case Comparator::Gt: return ">";
    case Comparator::Ge: return ">=";
  }
  return "?";
}

std::optional<FieldId> find_field(RecordKind kind, std::string_view name) {
  for (FieldId id : lists_for(kind).all) {
    if (field_info(id).name == name) return id;
  }
  return std::nullopt;
}

std::optional<FieldId> find_filter_field(std::string_view keyword) {
  if (keyword.empty()) return std::nullopt;
  for (const FieldInfo& f : kFieldTable) {
    if (!f.filter_name.empty() && iequal(f.filter_name, keyword)) return f.id;
  }
  return std::nullopt;
}

std::string_view suggest_filter_field(std::string_view text) {
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(2, text.size() / 3) + 1;
  for (const FieldInfo& f : kFieldTable) {
    if (f.filter_name.empty()) continue;
    for (std::string_view candidate : {f.filter_name, f.name}) {
      std::size_t d = edit_distance(text, candidate);
      if (d < best_distance) {
        best_distance = d;
        best = f.filter_name;
      }
    }
  }
  return best;
}

std::string definition(const FieldInfo& f) {
  auto label = [](FieldId id) {
    const FieldInfo& o = field_info(id);
    return std::string(o.filter_name.empty() ? o.name : o.filter_name);
  };
  switch (f.kind) {
    case FieldKind::Stored: return {};
    case FieldKind::Either: return label(f.operands[0]) + " or " + label(f.operands[1]);
    case FieldKind::Sum: return label(f.operands[0]) + " + " + label(f.operands[1]);
    case FieldKind::Diff: return label(f.operands[0]) + " - " + label(f.operands[1]);
  }
  return {};
}

std::string default_column_names(Surface s) {
  std::string out;
  for (FieldId id : default_columns(s)) {
    if (!out.empty()) out += ',';
    out += field_info(id).name;
  }
  return out;
}

std::span<const FieldId> fields_of(RecordKind kind, bool stored_only) {
  const KindLists& lists = lists_for(kind);
  return stored_only ? std::span<const FieldId>(lists.stored) : std::span<const FieldId>(lists.all);
}

}  // namespace flowscope
