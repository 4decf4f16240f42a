#include "report/report_model.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace flowscope::report {

bool is_numeric_column(const Table& table, std::size_t col) {
  bool any = false;
  for (const auto& row : table.rows) {
    if (col >= row.size()) continue;
    const std::string& t = row[col].text;
    if (t.empty() || t == "-") continue;
    if (row[col].value) {
      any = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(t[0]))) return false;
    any = true;
  }
  return any;
}

nlohmann::json to_json(const Report& report) {
  nlohmann::json sections = nlohmann::json::array();
  for (const auto& s : report.sections) {
    nlohmann::json figures = nlohmann::json::array();
    for (const auto& f : s.figures) figures.push_back({{"label", f.label}, {"value", f.value}});
    nlohmann::json tables = nlohmann::json::array();
    for (const auto& t : s.tables) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& r : t.rows) {
        nlohmann::json cells = nlohmann::json::array();
        for (const auto& c : r) {
          nlohmann::json cell = {{"text", c.text}};
          if (c.value) cell["value"] = *c.value;
          cells.push_back(std::move(cell));
        }
        rows.push_back(std::move(cells));
      }
      tables.push_back({{"title", t.title},
                        {"columns", t.columns},
                        {"rows", std::move(rows)},
                        {"footer_rows", t.footer_rows},
                        {"query", t.query},
                        {"note", t.note}});
    }
    nlohmann::json charts = nlohmann::json::array();
    for (const auto& c : s.charts) {
      charts.push_back({{"kind", c.kind == ChartKind::Bars ? "bars" : "lines"},
                        {"title", c.title},
                        {"unit", c.unit},
                        {"labels", c.labels},
                        {"times", c.times},
                        {"names", c.names},
                        {"series", c.series},
                        {"marker", c.marker},
                        {"query", c.query}});
    }
    sections.push_back({{"heading", s.heading},
                        {"paragraphs", s.paragraphs},
                        {"figures", std::move(figures)},
                        {"tables", std::move(tables)},
                        {"charts", std::move(charts)}});
  }
  return {{"title", report.title},
          {"subtitle", report.subtitle},
          {"generated", report.generated},
          {"selection", report.selection},
          {"sections", std::move(sections)}};
}

}  // namespace flowscope::report
