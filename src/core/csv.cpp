#include "core/csv.h"

namespace flowscope {
namespace {

std::string trimmed(std::string cell, bool was_quoted) {
  if (was_quoted) return cell;
  const auto begin = cell.find_first_not_of(' ');
  if (begin == std::string::npos) return {};
  return cell.substr(begin, cell.find_last_not_of(' ') - begin + 1);
}

}  // namespace

bool split_csv_line(const std::string& line, std::vector<std::string>& cells) {
  cells.clear();
  std::string cell;
  bool quoted = false;
  bool was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
      was_quoted = true;
    } else if (c == ',') {
      cells.push_back(trimmed(std::move(cell), was_quoted));
      cell.clear();
      was_quoted = false;
    } else if (c != '\r') {
      cell += c;
    }
  }
  cells.push_back(trimmed(std::move(cell), was_quoted));
  return !quoted;
}

}  // namespace flowscope
