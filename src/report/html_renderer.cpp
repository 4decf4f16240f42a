// A report as one self-contained HTML page: inline CSS, charts as inline SVG, no script and no
// external reference (a test greps the output for src=, href= and url( to keep it so).
#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/xml_escape.h"
#include "query/chart_style.h"

#include "report/renderers.h"
#include "report/report_format.h"

namespace flowscope::report {
namespace {

std::string esc(std::string_view s) { return xml_escape(s, Apostrophe::Numeric); }

constexpr const char* kStyle = R"(
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;margin:0;background:#f4f5f7}
main{max-width:1000px;margin:0 auto;padding:24px 32px;background:#fff}
header{border-bottom:3px solid #1f77b4;margin-bottom:16px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
h3{font-size:14px;margin:18px 0 6px}
.sub{color:#555;margin:0 0 6px}
.sel span{display:inline-block;background:#eef3f8;border-radius:3px;padding:1px 6px;margin:0 4px 6px 0;font-size:12px}
.figs{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.fig{border:1px solid #dde;border-radius:4px;padding:8px 12px;min-width:140px}
.fig b{display:block;font-size:18px;color:#1f4e79}
.fig small{color:#666;font-size:11px}
table{border-collapse:collapse;font-size:12px;margin:4px 0}
th{background:#1f4e79;color:#fff;text-align:left;padding:4px 8px}
td{padding:3px 8px;border-bottom:1px solid #e4e4e4}
tr:nth-child(even) td{background:#f8f9fb}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.foot td{font-style:italic;color:#444;background:#eef0f3}
.q{font-family:"DejaVu Sans Mono",monospace;font-size:10px;color:#666;white-space:pre-wrap;margin:2px 0 4px}
.note{font-size:11px;color:#555}
svg{display:block;margin:6px 0}
)";

void bars_svg(std::ostringstream& o, const Chart& c) {
  const double w = 900, row = 22, left = 220, right = 110, top = 8;
  const std::size_t n = c.labels.size();
  const double h = top + row * static_cast<double>(n) + 8;
  double mx = 0;
  for (double v : c.series[0]) mx = std::max(mx, v);
  if (mx <= 0) mx = 1;
  o << fmt::format(R"(<svg width="{}" height="{}" role="img" aria-label="{}">)", w, h,
                   esc(c.title));
  for (std::size_t i = 0; i < n; ++i) {
    const double y = top + row * static_cast<double>(i);
    const double bw = (w - left - right) * c.series[0][i] / mx;
    std::string label = c.labels[i].substr(0, 34);
    o << fmt::format(R"(<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>)", left - 8,
                     y + 15, esc(label));
    o << fmt::format(R"(<rect x="{}" y="{}" width="{:.1f}" height="{}" fill="{}"/>)", left, y + 3,
                     std::max(bw, 1.0), row - 6, query::css_color(query::chart_color(i)));
    o << fmt::format(
        R"(<text x="{:.1f}" y="{}" font-size="11" fill="#333">{}</text>)", left + bw + 6, y + 15,
        esc(c.unit == "bytes" ? human_bytes(c.series[0][i]) : query::si_label(c.series[0][i])));
  }
  o << "</svg>\n";
}

void lines_svg(std::ostringstream& o, const Chart& c) {
  const double w = 900, h = 300, left = 70, right = 20, top = 14, bottom = 56;
  const double pw = w - left - right, ph = h - top - bottom;
  const std::size_t n = c.times.size();
  double mx = c.marker;
  for (const auto& s : c.series) {
    for (double v : s) mx = std::max(mx, v);
  }
  const double ymax = query::nice_max(mx);
  o << fmt::format(R"(<svg width="{}" height="{}" role="img" aria-label="{}">)", w, h,
                   esc(c.title));
  for (int i = 0; i <= 5; ++i) {
    const double y = top + ph - ph * i / 5;
    o << fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#e3e3e3"/>)", left, y,
                     left + pw, y);
    o << fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{}</text>)",
                     left - 6, y + 4,
                     esc(query::si_label(ymax * i / 5) + (i == 5 ? " " + c.unit : "")));
  }
  auto x_of = [&](std::size_t i) {
    return left + (n <= 1 ? pw / 2 : pw * static_cast<double>(i) / static_cast<double>(n - 1));
  };
  for (std::size_t t : query::tick_indexes(n, 7)) {
    o << fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)",
                     x_of(t), top + ph + 16,
                     esc(query::time_tick(c.times[t], c.times.back() - c.times.front(), {})));
  }
  for (std::size_t s = 0; s < c.series.size(); ++s) {
    std::string pts;
    for (std::size_t i = 0; i < n && i < c.series[s].size(); ++i) {
      pts += fmt::format("{:.1f},{:.1f} ", x_of(i), top + ph - ph * c.series[s][i] / ymax);
    }
    o << fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.6" points="{}"/>)",
                     query::css_color(query::chart_color(s)), pts);
  }
  if (c.marker > 0) {
    const double y = top + ph - ph * c.marker / ymax;
    o << fmt::format(
        R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#c00" stroke-dasharray="6,4"/>)",
        left, y, left + pw, y);
    o << fmt::format(
        R"(<text x="{}" y="{:.1f}" font-size="11" fill="#c00" text-anchor="end">{}</text>)",
        left + pw, y - 4, esc(c.marker_label));
  }
  o << fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333"/>)", left, top + ph,
                   left + pw, top + ph);
  double lx = left;
  for (std::size_t s = 0; s < c.names.size(); ++s) {
    o << fmt::format(R"(<rect x="{:.1f}" y="{}" width="12" height="4" fill="{}"/>)", lx, h - 14,
                     query::css_color(query::chart_color(s)));
    o << fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11">{}</text>)", lx + 16, h - 9,
                     esc(c.names[s]));
    lx += 40 + 7.0 * static_cast<double>(c.names[s].size());
  }
  o << "</svg>\n";
}

void table_html(std::ostringstream& o, const Table& t) {
  o << "<h3>" << esc(t.title) << "</h3>\n<table>\n<tr>";
  std::vector<bool> numeric;
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    numeric.push_back(is_numeric_column(t, c));
    o << (numeric.back() ? "<th class=\"n\">" : "<th>") << esc(t.columns[c]) << "</th>";
  }
  o << "</tr>\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const bool foot = r + t.footer_rows >= t.rows.size() && t.footer_rows > 0;
    o << (foot ? "<tr class=\"foot\">" : "<tr>");
    for (std::size_t c = 0; c < t.rows[r].size(); ++c) {
      const Cell& cell = t.rows[r][c];
      o << "<td" << (c < numeric.size() && numeric[c] ? " class=\"n\"" : "");
      if (cell.value) o << " data-value=\"" << *cell.value << "\"";
      o << ">" << esc(cell.text) << "</td>";
    }
    o << "</tr>\n";
  }
  o << "</table>\n";
  if (!t.note.empty()) o << "<div class=\"note\">" << esc(t.note) << "</div>\n";
  if (!t.query.empty()) o << "<div class=\"q\">query: " << esc(t.query) << "</div>\n";
}

}  // namespace

std::string render_html(const Report& report) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>"
    << esc(report.title) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n<main>\n"
    << "<header>\n<h1>" << esc(report.title) << "</h1>\n<p class=\"sub\">" << esc(report.subtitle)
    << "</p>\n<div class=\"sel\">";
  for (const auto& s : report.selection) o << "<span>" << esc(s) << "</span>";
  o << "</div>\n";
  if (!report.generated.empty())
    o << "<p class=\"sub\"><small>" << esc(report.generated) << "</small></p>\n";
  o << "</header>\n";
  for (const auto& s : report.sections) {
    o << "<section>\n<h2>" << esc(s.heading) << "</h2>\n";
    for (const auto& p : s.paragraphs) o << "<p>" << esc(p) << "</p>\n";
    if (!s.figures.empty()) {
      o << "<div class=\"figs\">";
      for (const auto& f : s.figures) {
        o << "<div class=\"fig\"><small>" << esc(f.label) << "</small><b>" << esc(f.value)
          << "</b></div>";
      }
      o << "</div>\n";
    }
    for (const auto& c : s.charts) {
      o << "<h3>" << esc(c.title) << "</h3>\n";
      if (c.kind == ChartKind::Bars) {
        bars_svg(o, c);
      } else {
        lines_svg(o, c);
      }
    }
    for (const auto& t : s.tables) table_html(o, t);
    o << "</section>\n";
  }
  o << "</main>\n</body>\n</html>\n";
  return o.str();
}

Result<void> write_html(const Report& report, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << render_html(report);
  out.close();
  if (!out) return Error{ErrorCode::Io, "cannot write " + path};
  return ok();
}

}  // namespace flowscope::report
