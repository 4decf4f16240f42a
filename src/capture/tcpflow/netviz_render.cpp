// Draws tcpflow's netviz page (report.pdf) from NetvizData with cairo: the layout, texts,
// scales and colours of tcpflow 1.6.1's one_page_report (see netviz.h); the drawing code is
// ours. Without cairo (FLOWSCOPE_HAVE_CAIRO unset) it reports how to get it.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "capture/tcpflow/netviz.h"

#ifdef FLOWSCOPE_HAVE_CAIRO
#include <cairo-pdf.h>
#include <cairo.h>
#endif

namespace flowscope::capture::tcpflow {

#ifndef FLOWSCOPE_HAVE_CAIRO
Result<void> render_netviz_pdf(NetvizData&, const std::string& path, const std::string&) {
  return Error{ErrorCode::Unsupported,
               fmt::format("netviz: cannot write {}: flowscope was built without cairo; "
                           "apt-get install libcairo2-dev and rebuild",
                           path)};
}
#else
namespace {

struct Rgb {
  double r, g, b;
  bool operator==(const Rgb&) const = default;
};
constexpr Rgb kDefault{0.67, 0.67, 0.67};
constexpr Rgb kOrange{1.00, 0.47, 0.00};
constexpr Rgb kRed{1.00, 0.00, 0.00};
constexpr Rgb kMagenta{0.75, 0.00, 0.60};
constexpr Rgb kPurple{0.58, 0.00, 0.75};
constexpr Rgb kDeepPurple{0.40, 0.00, 0.75};
constexpr Rgb kBlue{0.02, 0.00, 1.00};
constexpr Rgb kTeal{0.00, 0.75, 0.65};
constexpr Rgb kGreen{0.02, 0.75, 0.00};
constexpr Rgb kBlack{0, 0, 0};

constexpr double kPageWidth = 611.0;
constexpr double kPageHeight = 792.0;
constexpr double kFont = 8.0;

using ColorMap = std::map<std::uint16_t, Rgb>;

struct LegendEntry {
  Rgb color;
  std::string label;
  std::uint16_t port;
};

void set_color(cairo_t* cr, Rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

double text_width(cairo_t* cr, const std::string& s, double size) {
  cairo_set_font_size(cr, size);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

void show(cairo_t* cr, double x, double y, const std::string& s, double size, Rgb c = kBlack) {
  cairo_set_font_size(cr, size);
  set_color(cr, c);
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, s.c_str());
}

// The x axis title of the time histogram: the capture's length in its two coarsest units and
// the width of a bar, worded as tcpflow words it ("24 seconds (<1 second intervals)").
std::string duration_label(const TimeHistogram& h) {
  if (h.best().inserted == 0) return "no packets received";
  static constexpr std::pair<const char*, std::int64_t> kUnits[] = {
      {"second", 1},       {"minute", 60},        {"hour", 3600},       {"day", 86400},
      {"week", 86400 * 7}, {"month", 86400 * 30}, {"year", 86400 * 360}};
  const std::int64_t duration = h.end_sec() - h.start_sec() + 1;
  std::string s;
  if (duration < 1) {
    s = "<1 second";
  } else {
    std::vector<std::int64_t> values;  // coarsest first, as `names`
    std::vector<const char*> names;
    std::int64_t rest = duration;
    for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
      values.push_back(rest / it->second);
      names.push_back(it->first);
      rest %= it->second;
    }
    int print_count = 0;
    for (auto v : values) {
      if (v > 0) {
        ++print_count;
      } else if (print_count > 0) {
        break;
      }
    }
    print_count = std::min(print_count, 2);
    int printed = 0;
    for (std::size_t i = 0; i < std::size(kUnits); ++i) {
      const std::int64_t v = values[i];
      if (v == 0 && printed == 0) continue;
      ++printed;
      if (v > 0) s += fmt::format("{} {}", v, names[i]);
      if (v > 1) s += "s";
      if (printed < print_count) s += ", ";
      if (printed == print_count) break;
    }
  }
  const std::uint64_t bar_seconds = h.best().bucket_width / 1000000;
  if (bar_seconds < 1 && duration >= 1) {
    s += " (<1 second intervals)";
  } else if (bar_seconds >= 1) {
    for (std::size_t i = 0; i < std::size(kUnits); ++i) {
      if (i + 1 == std::size(kUnits) ||
          bar_seconds < static_cast<std::uint64_t>(kUnits[i + 1].second)) {
        const auto unit = static_cast<std::uint64_t>(kUnits[i].second);
        s += fmt::format(" ({}{} {} intervals)", bar_seconds % unit != 0 ? "~" : "",
                         bar_seconds / unit, kUnits[i].first);
        break;
      }
    }
  }
  return s;
}

// Five y labels from 0 to the tallest bar in its power-of-1000 unit, repeats dropped.
std::vector<std::string> byte_ticks(std::uint64_t tallest) {
  static constexpr const char* kPrefix[] = {"", "K", "M", "G", "T", "P", "E"};
  std::size_t unit = 0;
  if (tallest > 0) {
    unit = static_cast<std::size_t>(std::log(static_cast<double>(tallest)) / std::log(1000.0));
    if (unit >= std::size(kPrefix)) unit = 0;
  }
  const double range = static_cast<double>(tallest) / std::pow(1000.0, unit);
  const double step = range / 4;
  std::vector<std::string> out;
  std::uint64_t next = 0;
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t value = next;
    next = static_cast<std::uint64_t>(std::floor((i + 1) * step + 0.5));
    if (value == next && i < 4) continue;
    out.push_back(fmt::format("{} {}B", value, kPrefix[unit]));
  }
  return out;
}

// Axes, tick labels left (values) and right (0%/100%), returning the plot area.
struct Area {
  double x, y, w, h;
};
Area draw_frame(cairo_t* cr, Area b, const std::vector<std::string>& left_ticks, double pad_left,
                double pad_bottom) {
  const double pad_right = b.w * 0.05 + 12;
  Area a{b.x + pad_left, b.y + 4, b.w - pad_left - pad_right, b.h - pad_bottom - 4};
  set_color(cr, kBlack);
  cairo_rectangle(cr, a.x, a.y, 1, a.h);
  cairo_rectangle(cr, a.x, a.y + a.h - 1, a.w, 1);
  cairo_rectangle(cr, a.x + a.w - 1, a.y, 1, a.h);
  cairo_fill(cr);
  for (std::size_t i = 0; i < left_ticks.size(); ++i) {
    const double y = a.y + a.h - (left_ticks.size() > 1 ? a.h * i / (left_ticks.size() - 1) : 0);
    const double w = text_width(cr, left_ticks[i], 5);
    show(cr, a.x - 4 - w, y + 2, left_ticks[i], 5);
    cairo_rectangle(cr, a.x - 3, y - 0.25, 3, 0.5);
    cairo_fill(cr);
  }
  show(cr, a.x + a.w + 4, a.y + a.h + 2, "0%", 6);
  show(cr, a.x + a.w + 4, a.y + 2, "100%", 6);
  return Area{a.x + 1, a.y, a.w - 2, a.h - 1};
}

void draw_time_histogram(cairo_t* cr, Area b, NetvizData& data, const ColorMap& colors) {
  TimeHistogram& h = data.time_histogram();
  const double factor = static_cast<double>(h.non_sparse_size()) / 100.0;
  if (factor > 1.1) h.condense(static_cast<std::uint64_t>(factor) + 1);
  std::uint64_t tallest = 0;
  for (const auto& [i, bucket] : h.best().buckets) tallest = std::max(tallest, bucket.sum());
  const Area a = draw_frame(cr, b, byte_ticks(tallest), b.w * 0.1, 22);
  const std::string label = duration_label(h);
  const double lw = text_width(cr, label, 8);
  const double lx = a.x + (a.w - lw) / 2;
  const double ly = b.y + b.h - 2;
  show(cr, lx, ly, label, 8);
  // the span: a line each side of the label ending in a stop mark
  cairo_set_line_width(cr, 0.8);
  cairo_move_to(cr, lx - 8, ly - 3);
  cairo_line_to(cr, a.x, ly - 3);
  cairo_move_to(cr, a.x, ly - 6);
  cairo_line_to(cr, a.x, ly);
  cairo_move_to(cr, lx + lw + 8, ly - 3);
  cairo_line_to(cr, a.x + a.w, ly - 3);
  cairo_move_to(cr, a.x + a.w, ly - 6);
  cairo_line_to(cr, a.x + a.w, ly);
  cairo_stroke(cr);
  const auto& buckets = h.best().buckets;
  if (buckets.empty() || tallest == 0) return;
  const std::size_t bars = h.non_sparse_size();
  const double slot = a.w / static_cast<double>(bars);
  const double bw = slot / 1.2;
  const std::uint32_t first = buckets.begin()->first;
  for (const auto& [index, bucket] : buckets) {
    const double x = a.x + (index - first) * slot + (slot - bw) / 2;
    const double total = static_cast<double>(bucket.sum());
    double y = a.y + a.h;
    const double height = total / static_cast<double>(tallest) * a.h;
    for (const auto& [port, n] : bucket.by_port) {
      const auto it = colors.find(port);
      const double part = height * static_cast<double>(n) / total;
      set_color(cr, it == colors.end() ? kDefault : it->second);
      cairo_rectangle(cr, x, y - part, bw, part);
      cairo_fill(cr);
      y -= part;
    }
    if (bucket.portless > 0) {  // non-TCP traffic: an outlined box
      const double part = height * static_cast<double>(bucket.portless) / total;
      set_color(cr, kBlack);
      cairo_set_line_width(cr, 0.25);
      cairo_rectangle(cr, x + 0.125, y - part + 0.125, bw - 0.25, part - 0.25);
      cairo_stroke(cr);
    }
  }
  // cumulative share of the bytes, a step per bar
  const double all = static_cast<double>(h.best().inserted);
  double acc = 0;
  for (std::size_t i = 0; i < bars; ++i) {
    const auto it = buckets.find(first + static_cast<std::uint32_t>(i));
    if (it != buckets.end()) acc += static_cast<double>(it->second.sum()) / all;
    const double x = a.x + static_cast<double>(i) * slot;
    const double y = a.y + (1.0 - acc) * a.h;
    if (i == 0) {
      cairo_move_to(cr, x, y);
    } else {
      cairo_line_to(cr, x, y);
    }
    cairo_line_to(cr, x + slot, y);
  }
  set_color(cr, kBlack);
  cairo_set_line_width(cr, 0.5);
  cairo_stroke(cr);
}

void draw_legend(cairo_t* cr, Area b, const std::vector<LegendEntry>& entries) {
  double total = 0;
  for (const auto& e : entries) total += 12 + text_width(cr, e.label, 6) + 10;
  double x = b.x + (b.w - total) / 2;
  for (const auto& e : entries) {
    set_color(cr, e.color);
    cairo_rectangle(cr, x, b.y + 3, 8, 8);
    cairo_fill(cr);
    show(cr, x + 11, b.y + 10, e.label, 6);
    x += 12 + text_width(cr, e.label, 6) + 10;
  }
}

// Long bar labels keep their start and end ("2a00:1450:...200e").
std::string short_label(const std::string& s) {
  if (s.size() <= 16) return s;
  return s.substr(0, 10) + "..." + s.substr(s.size() - 4);
}

// "29 KB": the value rounded in its power-of-1000 unit (a bar chart's top label).
std::string rounded_bytes(std::uint64_t n) {
  static constexpr const char* kPrefix[] = {"", "K", "M", "G", "T", "P", "E"};
  std::size_t unit = 0;
  if (n > 0) unit = static_cast<std::size_t>(std::log(static_cast<double>(n)) / std::log(1000.0));
  if (unit >= std::size(kPrefix)) unit = 0;
  const auto v =
      static_cast<std::uint64_t>(std::floor(static_cast<double>(n) / std::pow(1000.0, unit) + 0.5));
  return fmt::format("{} {}B", v, kPrefix[unit]);
}

struct Bar {
  std::string label;
  std::uint64_t count;
  Rgb color;
};

// A top-10 histogram: bars with their labels written upward, a cumulative line, the title below.
void draw_bars(cairo_t* cr, Area b, const std::string& title, const std::vector<Bar>& bars,
               std::uint64_t total) {
  const std::uint64_t tallest = bars.empty() ? 0 : bars.front().count;
  const std::vector<std::string> ticks = {"0 B", rounded_bytes(tallest)};
  const Area a = draw_frame(cr, b, ticks, 22, 14);
  const double tw = text_width(cr, title, 8);
  show(cr, a.x + (a.w - tw) / 2, b.y + b.h - 2, title, 8);
  if (bars.empty() || tallest == 0) return;
  const double slot = a.w / 10.0;
  const double bw = slot / 1.2;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const double x = a.x + static_cast<double>(i) * slot + (slot - bw) / 2;
    const double height = static_cast<double>(bars[i].count) / static_cast<double>(tallest) * a.h;
    set_color(cr, bars[i].color);
    cairo_rectangle(cr, x, a.y + a.h - height, bw, height);
    cairo_fill(cr);
    // the label, rotated, starting just above the bar
    cairo_save(cr);
    cairo_move_to(cr, x + bw / 2 - 2, a.y + a.h - height - 2);
    cairo_rotate(cr, -M_PI / 4);
    cairo_set_font_size(cr, 5);
    set_color(cr, kBlack);
    cairo_show_text(cr, short_label(bars[i].label).c_str());
    cairo_restore(cr);
    cairo_new_path(cr);
  }
  // cumulative share of the side's bytes, a step per bar
  double acc = 0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    acc +=
        static_cast<double>(bars[i].count) / static_cast<double>(std::max<std::uint64_t>(total, 1));
    const double y = a.y + (1.0 - acc) * a.h;
    if (i == 0) {
      cairo_move_to(cr, a.x, y);
    } else {
      cairo_line_to(cr, a.x + static_cast<double>(i) * slot, y);
    }
    cairo_line_to(cr, a.x + static_cast<double>(i + 1) * slot, y);
  }
  set_color(cr, kBlack);
  cairo_set_line_width(cr, 0.5);
  cairo_stroke(cr);
}

// "1) 10.0.0.1 - 28.73 KB (43%)": the share is of the source side's total on both sides, as
// tcpflow computes it.
std::string top_line(std::size_t rank, const std::string& what, std::uint64_t count,
                     std::uint64_t total) {
  const auto pct = static_cast<std::uint8_t>(
      static_cast<unsigned>(static_cast<double>(count) / static_cast<double>(total) * 100.0));
  return fmt::format("{}) {} - {} ({}%)", rank, what, pretty_byte_total(count), pct);
}

}  // namespace

Result<void> render_netviz_pdf(NetvizData& data, const std::string& path,
                               const std::string& input) {
  cairo_surface_t* surface = cairo_pdf_surface_create(path.c_str(), kPageWidth, kPageHeight);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    const std::string why = cairo_status_to_string(cairo_surface_status(surface));
    cairo_surface_destroy(surface);
    return Error{ErrorCode::Io,
                 fmt::format("netviz: cannot write {}: {}; check that the output directory is "
                             "writable",
                             path, why)};
  }
  cairo_t* cr = cairo_create(surface);
  cairo_select_font_face(cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  const double pad = kPageWidth * 0.05;
  const double x0 = pad;
  const double width = kPageWidth - 2 * pad;
  double y = pad;
  auto line = [&](const std::string& s) {
    y += 6;
    show(cr, x0, y, s, kFont);
    y += 2;
  };

  // Port colours: tcpflow's fixed ones, then the top four source ports without one.
  ColorMap colors;
  for (std::uint16_t p : {80, 8080, 8000, 8888, 81, 82, 8090}) colors[p] = kBlue;
  colors[443] = kGreen;
  colors[22] = kPurple;
  colors[20] = kRed;
  colors[21] = kRed;
  const auto& in_time = data.ports_in_time_histogram();
  auto seen = [&in_time](std::uint16_t p) {
    const auto it = in_time.find(p);
    return it != in_time.end() && it->second;
  };
  std::vector<LegendEntry> legend;
  if (seen(80) || seen(8080) || seen(8000) || seen(8888) || seen(81) || seen(82) || seen(8090)) {
    legend.push_back({kBlue, "HTTP", 80});
  }
  if (seen(443)) legend.push_back({kGreen, "HTTPS", 443});
  if (seen(22)) legend.push_back({kPurple, "SSH", 22});
  if (seen(20) || seen(21)) legend.push_back({kRed, "FTP", 20});
  const auto src_ports = data.top_ports(true);
  const auto dst_ports = data.top_ports(false);
  const Rgb kRanked[] = {kOrange, kMagenta, kDeepPurple, kTeal};
  std::size_t ranked = 0;
  for (const auto& pc : src_ports) {
    if (ranked == 4) break;
    if (colors.count(pc.port)) continue;
    if (seen(pc.port))
      legend.push_back({kRanked[ranked], fmt::format("Port {}", pc.port), pc.port});
    colors[pc.port] = kRanked[ranked++];
  }
  std::sort(legend.begin(), legend.end(),
            [](const LegendEntry& a, const LegendEntry& b) { return a.port < b.port; });

  // Header
  line("TCPFLOW 1.6.1");
  line("Input: " + input);
  {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    line(fmt::format("Generated: {:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", 1900 + tm.tm_year,
                     1 + tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec));
  }
  y += 8;
  line(data.date_range_line());
  line(data.packets_line());
  line(data.transports_line());
  y += 8;

  draw_time_histogram(cr, Area{x0, y, width, 100}, data, colors);
  y += 110;
  draw_legend(cr, Area{x0, y, width, 16}, legend);
  y += 16 + 20;

  const double half = width / 2.2;
  auto pair = [&](bool addresses, double height) {
    std::vector<Bar> sides[2];
    std::vector<std::string> lines[2];
    const std::uint64_t total = addresses ? data.address_total(true) : data.port_total(true);
    for (int side = 0; side < 2; ++side) {
      const bool source = side == 0;
      if (addresses) {
        for (const auto& e : data.top_addresses(source)) {
          sides[side].push_back({e.text(), e.count, kDefault});
          if (lines[side].size() < 3 && e.count > 0) {
            lines[side].push_back(top_line(lines[side].size() + 1, e.text(), e.count, total));
          }
        }
      } else {
        for (const auto& pc : source ? src_ports : dst_ports) {
          const auto it = colors.find(pc.port);
          sides[side].push_back(
              {std::to_string(pc.port), pc.count, it == colors.end() ? kDefault : it->second});
          if (lines[side].size() < 3 && pc.count > 0) {
            lines[side].push_back(
                top_line(lines[side].size() + 1, std::to_string(pc.port), pc.count, total));
          }
        }
      }
    }
    const char* what = addresses ? "Addresses" : "Ports";
    for (int side = 0; side < 2; ++side) {
      const std::string title = fmt::format("{} {} {}", sides[side].empty() ? "No" : "Top",
                                            side == 0 ? "Source" : "Destination", what);
      const std::uint64_t side_total =
          addresses ? data.address_total(side == 0) : data.port_total(side == 0);
      draw_bars(cr, Area{side == 0 ? x0 : x0 + width - half, y, half, height}, title, sides[side],
                side_total);
    }
    y += height;
    for (std::size_t i = 0; i < 3; ++i) {
      if (i >= lines[0].size() && i >= lines[1].size()) break;
      y += 9;
      if (i < lines[0].size()) show(cr, x0 + 22, y, lines[0][i], kFont);
      if (i < lines[1].size()) show(cr, x0 + width - half + 22, y, lines[1][i], kFont);
      y += 3;
    }
    y += height * 0.1 + 10;
  };
  pair(true, 125);
  pair(false, 100);

  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    return Error{ErrorCode::Io, fmt::format("netviz: writing {} failed: {}", path,
                                            cairo_status_to_string(status))};
  }
  return {};
}
#endif

}  // namespace flowscope::capture::tcpflow
