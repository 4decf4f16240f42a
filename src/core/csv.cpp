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

void append_csv_cell(std::string& line, std::string_view cell) {
  if (cell.find_first_of(",\"\n\r") == std::string_view::npos) {
    line.append(cell);
    return;
  }
  line.push_back('"');
  for (char c : cell) {
    if (c == '"') line.push_back('"');
    line.push_back(c);
  }
  line.push_back('"');
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line.push_back(',');
    append_csv_cell(line, cells[i]);
  }
  line.push_back('\n');
  return line;
}

bool read_csv_record(std::istream& in, std::string& record, std::size_t& lines) {
  if (!std::getline(in, record)) return false;
  ++lines;
  // A doubled quote inside a quoted value counts twice, so an odd count means a value is open.
  auto open_quotes = [](const std::string& text) {
    std::size_t quotes = 0;
    for (char c : text) quotes += c == '"';
    return quotes % 2 == 1;
  };
  bool open = open_quotes(record);
  std::string more;
  for (std::size_t extra = 1; open && extra < kMaxCsvRecordLines; ++extra) {
    if (!std::getline(in, more)) break;
    ++lines;
    record += '\n';
    record += more;
    open = open_quotes(more) ? !open : open;
  }
  return true;
}

}  // namespace flowscope
