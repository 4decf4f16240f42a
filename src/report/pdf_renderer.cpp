// A report as a PDF: A4 portrait pages drawn with cairo (the library `flowscope stat -g` draws
// its PNGs with, sharing query/chart_style.h), a flowing layout with page breaks before any
// block that does not fit, table headers repeated on continued pages, and a footer with the
// page number.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "query/chart_style.h"

#include "report/renderers.h"
#include "report/report_format.h"
#ifdef FLOWSCOPE_HAVE_CAIRO
#include <cairo-pdf.h>
#include <cairo.h>
#endif

namespace flowscope::report {

#ifndef FLOWSCOPE_HAVE_CAIRO

Result<int> write_pdf(const Report&, const std::string&) {
  return Error{ErrorCode::Unsupported,
               "this flowscope was built without cairo, so it cannot write PDF reports; install "
               "libcairo2-dev (scripts/install-deps.sh) and rebuild, or use --format html"};
}

#else

namespace {

constexpr double kPageW = 595.28, kPageH = 841.89;  // A4 in points
constexpr double kMargin = 48, kFooter = 30;
constexpr double kWidth = kPageW - 2 * kMargin;
constexpr query::Rgb kInk = {0.13, 0.13, 0.13};
constexpr query::Rgb kHead = {0.12, 0.31, 0.47};

class Page {
 public:
  Page(cairo_t* cr, std::string title) : cr_(cr), title_(std::move(title)) {}
  cairo_t* cr() const { return cr_; }
  double y = kMargin;
  int pages = 1;

  double room() const { return kPageH - kMargin - kFooter - y; }
  void ensure(double h) {
    if (room() < h && y > kMargin + 1) next();
  }
  void next() {
    footer();
    cairo_show_page(cr_);
    ++pages;
    y = kMargin;
  }
  void footer() {
    font(7.5, false);
    color({0.45, 0.45, 0.45});
    const std::string text = fmt::format("flowscope  |  {}  |  page {}", title_, pages);
    cairo_move_to(cr_, kMargin, kPageH - kMargin / 2);
    cairo_show_text(cr_, text.c_str());
    cairo_set_line_width(cr_, 0.5);
    cairo_move_to(cr_, kMargin, kPageH - kMargin / 2 - 10);
    cairo_line_to(cr_, kPageW - kMargin, kPageH - kMargin / 2 - 10);
    cairo_stroke(cr_);
  }
  void font(double size, bool bold, bool mono = false) {
    cairo_select_font_face(cr_, mono ? "DejaVu Sans Mono" : "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size);
  }
  void color(const query::Rgb& c) { cairo_set_source_rgb(cr_, c.r, c.g, c.b); }
  double text_width(const std::string& s) {
    cairo_text_extents_t e;
    cairo_text_extents(cr_, s.c_str(), &e);
    return e.x_advance;
  }
  void text(double x, double baseline, const std::string& s) {
    cairo_move_to(cr_, x, baseline);
    cairo_show_text(cr_, s.c_str());
  }
  // `s` cut with "..." to fit `w`.
  std::string fit(std::string s, double w) {
    if (text_width(s) <= w) return s;
    while (!s.empty() && text_width(s + "...") > w) s.pop_back();
    return s + "...";
  }
  // Word-wrapped lines of `s` (hard breaks at '\n') within `w`.
  std::vector<std::string> wrap(const std::string& s, double w) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos <= s.size()) {
      std::size_t nl = s.find('\n', pos);
      if (nl == std::string::npos) nl = s.size();
      std::string para = s.substr(pos, nl - pos);
      std::string line;
      std::size_t i = 0;
      while (i < para.size()) {
        std::size_t sp = para.find(' ', i);
        if (sp == std::string::npos) sp = para.size();
        std::string word = para.substr(i, sp - i);
        std::string trial = line.empty() ? word : line + " " + word;
        if (!line.empty() && text_width(trial) > w) {
          lines.push_back(line);
          line = word;
        } else {
          line = trial;
        }
        while (text_width(line) > w && line.size() > 1) {  // a word longer than the line
          std::size_t cut = line.size() - 1;
          while (cut > 1 && text_width(line.substr(0, cut)) > w) --cut;
          lines.push_back(line.substr(0, cut));
          line = line.substr(cut);
        }
        i = sp + 1;
      }
      lines.push_back(line);
      pos = nl + 1;
    }
    return lines;
  }

 private:
  cairo_t* cr_;
  std::string title_;
};

void draw_header(Page& p, const Report& r) {
  cairo_t* cr = p.cr();
  p.color(kHead);
  cairo_rectangle(cr, 0, 0, kPageW, 6);
  cairo_fill(cr);
  p.font(20, true);
  p.color(kInk);
  p.text(kMargin, p.y + 20, r.title);
  p.y += 30;
  p.font(10, false);
  p.color({0.3, 0.3, 0.3});
  p.text(kMargin, p.y + 10, r.subtitle);
  p.y += 16;
  std::string sel;
  for (const auto& s : r.selection) sel += (sel.empty() ? "" : "   ") + s;
  p.font(8.5, false);
  p.text(kMargin, p.y + 9, sel);
  p.y += 13;
  if (!r.generated.empty()) {
    p.text(kMargin, p.y + 9, r.generated);
    p.y += 13;
  }
  p.color(kHead);
  cairo_set_line_width(cr, 1.5);
  cairo_move_to(cr, kMargin, p.y + 4);
  cairo_line_to(cr, kPageW - kMargin, p.y + 4);
  cairo_stroke(cr);
  p.y += 14;
}

void draw_query(Page& p, const std::string& q, const std::string& note) {
  if (!note.empty()) {
    p.font(7, false);
    p.color({0.35, 0.35, 0.35});
    for (const auto& line : p.wrap(note, kWidth)) {
      p.ensure(9);
      p.text(kMargin, p.y + 7, line);
      p.y += 9;
    }
  }
  if (q.empty()) return;
  p.font(6, false, true);
  p.color({0.45, 0.45, 0.45});
  for (const auto& line : p.wrap("query: " + q, kWidth)) {
    p.ensure(8);
    p.text(kMargin, p.y + 6, line);
    p.y += 7.5;
  }
  p.y += 4;
}

void draw_figures(Page& p, const std::vector<Figure>& figs) {
  const int per_row = 3;
  const double gap = 8, bw = (kWidth - gap * (per_row - 1)) / per_row, bh = 40;
  for (std::size_t i = 0; i < figs.size(); i += per_row) {
    p.ensure(bh + gap);
    for (std::size_t j = i; j < std::min(figs.size(), i + per_row); ++j) {
      const double x = kMargin + static_cast<double>(j - i) * (bw + gap);
      cairo_set_source_rgb(p.cr(), 0.93, 0.95, 0.97);
      cairo_rectangle(p.cr(), x, p.y, bw, bh);
      cairo_fill(p.cr());
      p.font(7.5, false);
      p.color({0.35, 0.35, 0.35});
      p.text(x + 8, p.y + 13, figs[j].label);
      p.font(14, true);
      p.color(kHead);
      p.text(x + 8, p.y + 32, p.fit(figs[j].value, bw - 12));
    }
    p.y += bh + gap;
  }
  p.y += 4;
}

void draw_bars(Page& p, const Chart& c) {
  const double row = 15, left = 150, right = 70;
  const double h = 18 + row * static_cast<double>(c.labels.size()) + 6;
  p.ensure(h);
  p.font(9.5, true);
  p.color(kInk);
  p.text(kMargin, p.y + 10, c.title);
  p.y += 18;
  double mx = 0;
  for (double v : c.series[0]) mx = std::max(mx, v);
  if (mx <= 0) mx = 1;
  for (std::size_t i = 0; i < c.labels.size(); ++i) {
    const double y = p.y + row * static_cast<double>(i);
    p.font(8, false);
    p.color(kInk);
    const std::string label = p.fit(c.labels[i], left - 12);
    p.text(kMargin + left - 6 - p.text_width(label), y + 10, label);
    const double bw = std::max(1.0, (kWidth - left - right) * c.series[0][i] / mx);
    p.color(query::chart_color(i));
    cairo_rectangle(p.cr(), kMargin + left, y + 2, bw, row - 4);
    cairo_fill(p.cr());
    p.color({0.2, 0.2, 0.2});
    p.font(7.5, false);
    p.text(kMargin + left + bw + 4, y + 10,
           c.unit == "bytes" ? human_bytes(c.series[0][i]) : query::si_label(c.series[0][i]));
  }
  p.y += row * static_cast<double>(c.labels.size()) + 6;
}

void draw_lines(Page& p, const Chart& c) {
  const double h = 190, left = 50, top = 18, bottom = 36;
  p.ensure(h + 10);
  cairo_t* cr = p.cr();
  p.font(9.5, true);
  p.color(kInk);
  p.text(kMargin, p.y + 10, c.title);
  const double x0 = kMargin + left, pw = kWidth - left, y0 = p.y + top, ph = h - top - bottom;
  const std::size_t n = c.times.size();
  double mx = c.marker;
  for (const auto& s : c.series) {
    for (double v : s) mx = std::max(mx, v);
  }
  const double ymax = query::nice_max(mx);
  p.font(7, false);
  for (int i = 0; i <= 4; ++i) {
    const double y = y0 + ph - ph * i / 4;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_set_line_width(cr, 0.5);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x0 + pw, y);
    cairo_stroke(cr);
    p.color(kInk);
    const std::string t = query::si_label(ymax * i / 4) + (i == 4 ? " " + c.unit : "");
    p.text(x0 - 4 - p.text_width(t), y + 3, t);
  }
  auto x_of = [&](std::size_t i) {
    return x0 + (n <= 1 ? pw / 2 : pw * static_cast<double>(i) / static_cast<double>(n - 1));
  };
  for (std::size_t t : query::tick_indexes(n, 6)) {
    const std::string label = query::time_tick(c.times[t], c.times.back() - c.times.front(), {});
    p.color(kInk);
    p.text(x_of(t) - p.text_width(label) / 2, y0 + ph + 11, label);
  }
  for (std::size_t s = 0; s < c.series.size(); ++s) {
    p.color(query::chart_color(s));
    cairo_set_line_width(cr, 1.2);
    for (std::size_t i = 0; i < n && i < c.series[s].size(); ++i) {
      const double x = x_of(i), y = y0 + ph - ph * c.series[s][i] / ymax;
      if (i == 0) {
        cairo_move_to(cr, x, y);
      } else {
        cairo_line_to(cr, x, y);
      }
    }
    cairo_stroke(cr);
  }
  if (c.marker > 0) {
    const double y = y0 + ph - ph * c.marker / ymax;
    const double dash[] = {4, 3};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_set_source_rgb(cr, 0.8, 0, 0);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x0 + pw, y);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    p.text(x0 + pw - p.text_width(c.marker_label), y - 3, c.marker_label);
  }
  p.color(kInk);
  cairo_set_line_width(cr, 0.8);
  cairo_move_to(cr, x0, y0 + ph);
  cairo_line_to(cr, x0 + pw, y0 + ph);
  cairo_stroke(cr);
  double lx = x0;
  for (std::size_t s = 0; s < c.names.size(); ++s) {
    p.color(query::chart_color(s));
    cairo_rectangle(cr, lx, y0 + ph + 21, 10, 3);
    cairo_fill(cr);
    p.color(kInk);
    p.text(lx + 14, y0 + ph + 25, c.names[s]);
    lx += 24 + p.text_width(c.names[s]);
  }
  p.y += h;
}

void draw_table(Page& p, const Table& t) {
  const double row_h = 13, pad = 4;
  cairo_t* cr = p.cr();
  const std::size_t ncol = t.columns.size();
  // Column widths from the widest text, scaled down to the page when too wide.
  std::vector<double> widths(ncol, 0);
  std::vector<bool> numeric(ncol);
  p.font(7.5, true);
  for (std::size_t c = 0; c < ncol; ++c) {
    widths[c] = p.text_width(t.columns[c]) + 2 * pad;
    numeric[c] = is_numeric_column(t, c);
  }
  p.font(7.5, false);
  for (const auto& row : t.rows) {
    for (std::size_t c = 0; c < ncol && c < row.size(); ++c) {
      widths[c] = std::max(widths[c], std::min(220.0, p.text_width(row[c].text) + 2 * pad));
    }
  }
  double total = 0;
  for (double w : widths) total += w;
  if (total > kWidth) {
    for (double& w : widths) w *= kWidth / total;
    total = kWidth;
  }
  auto header = [&] {
    p.color(kHead);
    cairo_rectangle(cr, kMargin, p.y, total, row_h + 1);
    cairo_fill(cr);
    p.font(7.5, true);
    cairo_set_source_rgb(cr, 1, 1, 1);
    double x = kMargin;
    for (std::size_t c = 0; c < ncol; ++c) {
      const std::string s = p.fit(t.columns[c], widths[c] - 2 * pad);
      p.text(numeric[c] ? x + widths[c] - pad - p.text_width(s) : x + pad, p.y + 9.5, s);
      x += widths[c];
    }
    p.y += row_h + 1;
  };
  p.ensure(16 + row_h * std::min<double>(4, static_cast<double>(t.rows.size()) + 1));
  p.font(9.5, true);
  p.color(kInk);
  p.text(kMargin, p.y + 10, t.title);
  p.y += 15;
  header();
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    if (p.room() < row_h) {
      p.next();
      header();
    }
    const bool foot = t.footer_rows > 0 && r + t.footer_rows >= t.rows.size();
    if (foot) {
      cairo_set_source_rgb(cr, 0.92, 0.93, 0.95);
      cairo_rectangle(cr, kMargin, p.y, total, row_h);
      cairo_fill(cr);
    } else if (r % 2 == 1) {
      cairo_set_source_rgb(cr, 0.97, 0.975, 0.985);
      cairo_rectangle(cr, kMargin, p.y, total, row_h);
      cairo_fill(cr);
    }
    cairo_select_font_face(cr, "DejaVu Sans",
                           foot ? CAIRO_FONT_SLANT_ITALIC : CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 7.5);
    p.color(kInk);
    double x = kMargin;
    for (std::size_t c = 0; c < ncol && c < t.rows[r].size(); ++c) {
      const std::string s = p.fit(t.rows[r][c].text, widths[c] - 2 * pad);
      p.text(numeric[c] ? x + widths[c] - pad - p.text_width(s) : x + pad, p.y + 9, s);
      x += widths[c];
    }
    p.y += row_h;
  }
  cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
  cairo_set_line_width(cr, 0.5);
  cairo_move_to(cr, kMargin, p.y);
  cairo_line_to(cr, kMargin + total, p.y);
  cairo_stroke(cr);
  p.y += 3;
  draw_query(p, t.query, t.note);
  p.y += 6;
}

}  // namespace

Result<int> write_pdf(const Report& report, const std::string& path) {
  cairo_surface_t* surface = cairo_pdf_surface_create(path.c_str(), kPageW, kPageH);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    const std::string why = cairo_status_to_string(cairo_surface_status(surface));
    cairo_surface_destroy(surface);
    return Error{ErrorCode::Io, fmt::format("cannot write the PDF {}: {}", path, why)};
  }
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, report.title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "flowscope report");
  cairo_t* cr = cairo_create(surface);
  Page p(cr, report.title);
  draw_header(p, report);
  for (const auto& s : report.sections) {
    if (s.new_page && p.y > kMargin + 200) p.next();
    p.ensure(60);
    p.font(14, true);
    p.color(kHead);
    p.text(kMargin, p.y + 14, s.heading);
    p.y += 20;
    p.font(9, false);
    p.color(kInk);
    for (const auto& para : s.paragraphs) {
      for (const auto& line : p.wrap(para, kWidth)) {
        p.ensure(12);
        p.text(kMargin, p.y + 9, line);
        p.y += 12;
      }
      p.y += 4;
    }
    draw_figures(p, s.figures);
    for (const auto& c : s.charts) {
      if (c.kind == ChartKind::Bars) {
        draw_bars(p, c);
      } else {
        draw_lines(p, c);
      }
    }
    for (const auto& t : s.tables) draw_table(p, t);
  }
  p.footer();
  cairo_show_page(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    return Error{ErrorCode::Io,
                 fmt::format("cannot write the PDF {}: {}", path, cairo_status_to_string(status))};
  }
  return p.pages;
}

#endif

}  // namespace flowscope::report
