#include "cli/table_writer.h"

#include <algorithm>

namespace flowscope::cli {
namespace {

// Splits text into lines of at most `width` characters at spaces (a longer word stays whole).
std::vector<std::string> wrap_text(const std::string& text, std::size_t width) {
  if (width == 0 || text.size() <= width) return {text};
  std::vector<std::string> lines;
  std::string line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t next = text.find(' ', pos);
    if (next == std::string::npos) next = text.size();
    std::string word = text.substr(pos, next - pos);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    pos = next + 1;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

void TableWriter::write(std::ostream& out) const {
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = columns_[c].header.size();
    for (const auto& row : rows_) {
      std::size_t w = row[c].size();
      if (columns_[c].wrap != 0) w = std::min(w, columns_[c].wrap);
      widths[c] = std::max(widths[c], w);
    }
  }
  auto emit = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> wrapped(cells.size());
    std::size_t lines = 1;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      wrapped[c] = wrap_text(cells[c], columns_[c].wrap);
      lines = std::max(lines, wrapped[c].size());
    }
    for (std::size_t l = 0; l < lines; ++l) {
      std::string line;
      for (std::size_t c = 0; c < cells.size(); ++c) {
        const std::string cell = l < wrapped[c].size() ? wrapped[c][l] : std::string();
        std::size_t pad = widths[c] > cell.size() ? widths[c] - cell.size() : 0;
        bool last = c + 1 == cells.size();
        if (columns_[c].align == Align::Right) {
          line.append(pad, ' ').append(cell);
        } else {
          line.append(cell);
          if (!last) line.append(pad, ' ');
        }
        if (!last) line.append("  ");
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
    }
  };
  std::vector<std::string> headers;
  for (const auto& col : columns_) headers.push_back(col.header);
  emit(headers);
  for (const auto& row : rows_) emit(row);
}

}  // namespace flowscope::cli
