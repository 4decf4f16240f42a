#include "query/stat_graph.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/field_format.h"
#include "query/chart_style.h"
#include "query/output.h"
#ifdef FLOWSCOPE_HAVE_CAIRO
#include <cairo.h>
#endif

namespace flowscope::query {

std::int64_t graph_bucket_ms(std::int64_t window_ms, int points) {
  static constexpr std::int64_t kSteps[] = {1000,     5000,     10000,    30000,    60000,
                                            300000,   600000,   900000,   1800000,  3600000,
                                            10800000, 21600000, 43200000, 86400000, 604800000};
  const std::int64_t want = window_ms / std::max(points, 1);
  for (std::int64_t s : kSteps) {
    if (s >= want) return s;
  }
  return kSteps[std::size(kSteps) - 1];
}

namespace {

std::string row_label(const StatResult& result, std::size_t row, const TimeZoneRef& zone) {
  std::string label;
  FieldFormatOptions options;
  options.zone = zone;
  for (std::size_t k = 0; k < result.group_by.size(); ++k) {
    if (!label.empty()) label.push_back(' ');
    const std::string text = stat_key_text(result, k, row, options);
    label.append(text.empty() ? std::string_view("-") : std::string_view(text));
  }
  return label.empty() ? std::string("all") : label;
}

}  // namespace

GraphData graph_data(const StatResult& result, const TimeZoneRef& zone) {
  GraphData d;
  for (std::size_t r = 0; r < result.rows.size(); ++r)
    d.labels.push_back(row_label(result, r, zone));
  d.labels.push_back(fmt::format("others ({})", result.other_groups));
  d.buckets = result.buckets;
  d.series = result.series;
  d.series.resize(d.labels.size() * d.buckets.size());
  return d;
}

nlohmann::json to_json(const GraphData& data) {
  return {{"labels", data.labels}, {"buckets", data.buckets}, {"series", data.series}};
}

Result<GraphData> graph_data_from_json(const nlohmann::json& j) {
  GraphData d;
  try {
    d.labels = j.at("labels").get<std::vector<std::string>>();
    d.buckets = j.at("buckets").get<std::vector<std::int64_t>>();
    d.series = j.at("series").get<std::vector<std::uint64_t>>();
  } catch (const nlohmann::json::exception& e) {
    return Error{ErrorCode::Parse, std::string("graph data from the server: ") + e.what()};
  }
  if (d.series.size() != d.labels.size() * d.buckets.size()) {
    return Error{ErrorCode::Parse, "graph data from the server: series size does not match"};
  }
  return d;
}

Result<void> write_stat_graph(const std::string& path, const StatSpec& spec,
                              const StatResult& result, const GraphOptions& options) {
  return write_graph(path, spec, graph_data(result, options.zone), options);
}

#ifndef FLOWSCOPE_HAVE_CAIRO

Result<void> write_graph(const std::string&, const StatSpec&, const GraphData&,
                         const GraphOptions&) {
  return Error{ErrorCode::Unsupported,
               "this flowscope was built without cairo, so it cannot draw graphs; install "
               "libcairo2-dev (scripts/install-deps.sh) and rebuild"};
}

#else

Result<void> write_graph(const std::string& path, const StatSpec& spec, const GraphData& result,
                         const GraphOptions& options) {
  if (options.width < kGraphMinWidth || options.height < kGraphMinHeight ||
      options.width > kGraphMaxSide || options.height > kGraphMaxSide) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("a graph is {}x{} to {}x{} pixels (-gx, -gy)", kGraphMinWidth,
                             kGraphMinHeight, kGraphMaxSide, kGraphMaxSide)};
  }
  const std::size_t nb = result.buckets.size();
  const std::size_t nrows = result.labels.size();  // ranked rows, then others
  const double w = options.width;
  const double h = options.height;
  const double left = 70, right = 210, top = 34, bottom = 40;
  const double pw = w - left - right;
  const double ph = h - top - bottom;

  cairo_surface_t* surface =
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, options.width, options.height);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  // Column totals give the y scale.
  double peak = 0;
  for (std::size_t b = 0; b < nb; ++b) {
    double sum = 0;
    for (std::size_t r = 0; r < nrows && !result.series.empty(); ++r) {
      sum += static_cast<double>(result.series[r * nb + b]);
    }
    peak = std::max(peak, sum);
  }
  const double ymax = nice_max(peak);

  // Bands: one rectangle per bucket and row, stacked from the first row up.
  const double bw = nb > 0 ? pw / static_cast<double>(nb) : pw;
  for (std::size_t b = 0; b < nb; ++b) {
    double base = 0;
    for (std::size_t r = 0; r < nrows; ++r) {
      const double v = static_cast<double>(result.series[r * nb + b]);
      if (v <= 0) continue;
      const Rgb c = r + 1 == nrows ? kChartOthers : chart_color(r);
      cairo_set_source_rgb(cr, c.r, c.g, c.b);
      const double y0 = top + ph - base / ymax * ph;
      const double y1 = top + ph - (base + v) / ymax * ph;
      cairo_rectangle(cr, left + static_cast<double>(b) * bw, y1, bw + 0.5, y0 - y1);
      cairo_fill(cr);
      base += v;
    }
  }

  // Axes, ticks and labels.
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_set_line_width(cr, 1);
  cairo_move_to(cr, left, top);
  cairo_line_to(cr, left, top + ph);
  cairo_line_to(cr, left + pw, top + ph);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 11);
  for (int i = 0; i <= 5; ++i) {
    const double v = ymax * i / 5;
    const double y = top + ph - ph * i / 5;
    cairo_move_to(cr, left - 4, y);
    cairo_line_to(cr, left, y);
    cairo_stroke(cr);
    const std::string text = si_label(v);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, text.c_str(), &ext);
    cairo_move_to(cr, left - 8 - ext.width, y + ext.height / 2);
    cairo_show_text(cr, text.c_str());
  }
  const std::size_t ticks = std::min<std::size_t>(nb, 6);
  for (std::size_t i = 0; i < ticks && nb > 0; ++i) {
    const std::size_t b = ticks == 1 ? 0 : i * (nb - 1) / (ticks - 1);
    const double x = left + (static_cast<double>(b) + 0.5) * bw;
    cairo_move_to(cr, x, top + ph);
    cairo_line_to(cr, x, top + ph + 4);
    cairo_stroke(cr);
    const std::string text =
        time_tick(result.buckets[b], result.buckets.back() - result.buckets.front(), options.zone);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, text.c_str(), &ext);
    cairo_move_to(cr, x - ext.width / 2, top + ph + 18);
    cairo_show_text(cr, text.c_str());
  }

  // Title and legend.
  cairo_set_font_size(cr, 13);
  std::string groups;
  for (const GroupKey& k : spec.group_by) {
    if (!groups.empty()) groups.push_back(',');
    groups.append(group_key_text(k));
  }
  const std::string title =
      fmt::format("{}{} by {} per {}", count_name(spec.count),
                  spec.side == Side::Send      ? " sent"
                  : spec.side == Side::Receive ? " received"
                                               : "",
                  groups.empty() ? "all" : groups, format_duration(DurationMs(spec.bucket_ms)));
  cairo_move_to(cr, left, 20);
  cairo_show_text(cr, title.c_str());
  cairo_set_font_size(cr, 11);
  for (std::size_t r = 0; r < nrows; ++r) {
    const double y = top + 4 + static_cast<double>(r) * 16;
    if (y + 12 > h) break;
    const Rgb c = r + 1 == nrows ? kChartOthers : chart_color(r);
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    cairo_rectangle(cr, w - right + 12, y, 10, 10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    const std::string& label = result.labels[r];
    cairo_move_to(cr, w - right + 28, y + 9);
    cairo_show_text(cr, label.substr(0, 28).c_str());
  }

  cairo_destroy(cr);
  const cairo_status_t status = cairo_surface_write_to_png(surface, path.c_str());
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    return Error{ErrorCode::Io, fmt::format("cannot write the graph to {}: {}", path,
                                            cairo_status_to_string(status))};
  }
  return ok();
}

#endif

}  // namespace flowscope::query
