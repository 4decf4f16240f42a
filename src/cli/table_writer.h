#pragma once
// Aligned text tables for terminals: `fields`, `store`, `ipinfo`, `user` and `decode --stats`
// (records and stat results go through query/output.h).
// Columns are sized to their widest cell; a column may be marked to wrap at a width, and
// numbers can be right-aligned. Not thread-safe; one writer per output.

#include <ostream>
#include <string>
#include <vector>

namespace flowscope::cli {

class TableWriter {
 public:
  enum class Align { Left, Right };
  struct ColumnSpec {
    std::string header;
    Align align = Align::Left;
    std::size_t wrap = 0;  // 0 = never wrap
  };

  explicit TableWriter(std::vector<ColumnSpec> columns) : columns_(std::move(columns)) {}
  // REQUIRES: cells.size() == number of columns.
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void write(std::ostream& out) const;

 private:
  std::vector<ColumnSpec> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace flowscope::cli
