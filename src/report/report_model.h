#pragma once
// The report model (docs/reports.md): what a trafMon-style report says, independent of how it
// is drawn. A Report is a title, the period and selection it covers, and sections; a section
// holds summary figures, charts and tables. Every table and chart carries the flowscope command
// that produced its numbers (`query`), so a reader can re-run it and a test can compare them.
// The PDF (report/pdf_renderer.h) and HTML (report/html_renderer.h) renderers draw the same
// model, so both formats say the same thing.
//
// Plain values; built on one thread, then read from any.
// Internal to flowscope_report: other modules use its public headers.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace flowscope::report {

// A figure of the summary box: "Total volume" = "1.2 GB".
struct Figure {
  std::string label;
  std::string value;
};

// A table cell: its text as printed ("1.23 GB", "4,211") and, for counts, the exact number
// behind it (bytes, sessions), which the HTML and JSON forms carry for checking.
struct Cell {
  std::string text;
  std::optional<std::uint64_t> value;
};

struct Table {
  std::string title;
  std::vector<std::string> columns;
  // Cells as printed; numeric columns are right-aligned by the renderers (is_numeric_column).
  std::vector<std::vector<Cell>> rows;
  std::string query;  // the command that gives these numbers
  std::string note;   // e.g. "hosts below 1000 b/s folded into 'others'"
  // Rows drawn in a lighter style: the 'others' and 'total' lines at the end.
  std::size_t footer_rows = 0;
};

enum class ChartKind : std::uint8_t { Bars, Lines };

// Bars: one value per label (series has one entry). Lines: one series per name over `times`.
struct Chart {
  ChartKind kind = ChartKind::Bars;
  std::string title;
  std::string unit;                         // "bytes", "b/s"
  std::vector<std::string> labels;          // Bars: one per bar
  std::vector<std::int64_t> times;          // Lines: bucket start times, ms
  std::vector<std::string> names;           // Lines: one per series
  std::vector<std::vector<double>> series;  // Bars: series[0][bar]; Lines: series[s][t]
  std::string query;
  // Lines: a horizontal marker (the 95th percentile), drawn dashed when > 0.
  double marker = 0;
  std::string marker_label;
};

struct Section {
  std::string heading;
  std::vector<std::string> paragraphs;
  std::vector<Figure> figures;
  std::vector<Chart> charts;
  std::vector<Table> tables;
  bool new_page = false;  // PDF: start on a fresh page
};

struct Report {
  std::string title;                   // "Network volume: manager report"
  std::string subtitle;                // period and selection
  std::string generated;               // "generated 2026-12-06 03:00 UTC by flowscope"
  std::vector<std::string> selection;  // "location: Main site", "threshold: 1000 b/s"
  std::vector<Section> sections;
};

// The model as JSON (report.json beside the PDF and HTML): titles, tables with their cells
// text and exact values, charts with their data, and the queries.
nlohmann::json to_json(const Report& report);

// True when every non-empty cell of column `col` (footer rows included) looks like a number
// ("1.2 MB", "42", "3.5 %"), so that renderers right-align it.
bool is_numeric_column(const Table& table, std::size_t col);

}  // namespace flowscope::report
