#include "report/report_builder.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "query/output.h"
#include "query/stat_graph.h"
#include "query/stat_series.h"

#include "report/report_format.h"

// Asks are written as designated initializers that leave the defaults out; GCC's
// -Wmissing-field-initializers would flag every one of them.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace flowscope::report {
namespace {

constexpr std::int64_t kPeakBucketMs = 300'000;  // 95th percentile over 5-minute averages

std::string join_and(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return "(" + a + ") && (" + b + ")";
}

bool plain_word(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ',' || c == '/' ||
           c == ':';
  });
}

Cell count_cell(std::uint64_t v) { return Cell{with_commas(v), v}; }
Cell bytes_cell(std::uint64_t v) { return Cell{human_bytes(static_cast<double>(v)), v}; }
Cell text_cell(std::string t) { return Cell{std::move(t), std::nullopt}; }

// Sum over every row (ranked and others) of a series at bucket b.
double bucket_sum(const query::StatResult& r, std::size_t b) {
  const std::size_t nb = r.buckets.size();
  double sum = 0;
  for (std::size_t row = 0; row * nb + b < r.series.size(); ++row) {
    sum += static_cast<double>(r.series[row * nb + b]);
  }
  return sum;
}

bool is_group_field(FieldId f) {
  return f == FieldId::Group || f == FieldId::ClnGroup || f == FieldId::SrvGroup;
}

}  // namespace

ReportBuilder::ReportBuilder(ReportSource& source, const VolumeOptions& options,
                             const enrich::IpGroups* groups)
    : source_(source), options_(options), groups_(groups) {
  std::string sel;
  if (!options_.location.empty()) sel = join_and(sel, attribute_filter(true, options_.location));
  if (!options_.activity.empty()) sel = join_and(sel, attribute_filter(false, options_.activity));
  if (!options_.host.empty()) {
    if (auto c = Cidr::parse(options_.host, Cidr::HostBits::Clear); c) {
      sel = join_and(sel, "ADDR == " + options_.host);
    } else if (groups_ != nullptr) {
      if (const auto* g = groups_->find(options_.host)) {
        sel = join_and(sel, fmt::format("GROUP == {}", g->id));
      }
    }
  }
  selection_ = sel;
  window_ = format_time(time_from_ms(options_.begin_ms)) + ".." +
            format_time(time_from_ms(options_.end_ms));
  seconds_ = static_cast<double>(options_.end_ms - options_.begin_ms) / 1000.0;
}

std::string ReportBuilder::and_selection(const std::string& extra) const {
  return join_and(selection_, extra);
}

std::string ReportBuilder::attribute_filter(bool location, const std::string& value) const {
  std::string f;
  if (groups_ == nullptr) return "GROUP == 0";
  for (const auto& g : groups_->groups()) {
    if ((location ? g.location : g.activity) != value) continue;
    if (!f.empty()) f += " || ";
    f += fmt::format("GROUP == {}", g.id);
  }
  return f.empty() ? "GROUP == 0" : f;
}

std::vector<std::string> ReportBuilder::attribute_values(bool location) const {
  std::vector<std::string> out;
  if (groups_ == nullptr) return out;
  for (const auto& g : groups_->groups()) {
    const std::string& v = location ? g.location : g.activity;
    if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

std::string ReportBuilder::group_label(std::uint32_t id) const {
  if (groups_ != nullptr) {
    if (const auto* g = groups_->group(id)) return g->name;
  }
  return fmt::format("group {}", id);
}

std::string ReportBuilder::key_label(const query::StatResult& r, std::size_t k,
                                     std::size_t row) const {
  FieldFormatOptions fo;
  fo.zone = options_.zone;
  std::string text = query::stat_key_text(r, k, row, fo);
  if (text.empty())
    return is_group_field(r.group_by[k].field) ? "(outside IP groups)" : "(unknown)";
  if (is_group_field(r.group_by[k].field)) {
    try {
      return group_label(static_cast<std::uint32_t>(std::stoul(text)));
    } catch (const std::exception&) {
      return text;
    }
  }
  return text;
}

Result<Answer> ReportBuilder::ask(const Ask& a) {
  query::StatSpec spec;
  spec.where.filter = and_selection(a.filter);
  spec.where.begin_ms = options_.begin_ms;
  spec.where.end_ms = options_.end_ms;
  auto g = query::parse_group_spec(a.grp);
  if (!g) return g.error();
  spec.group_by = *g;
  if (auto c = query::parse_count_spec(a.cnt, spec); !c) return c.error();
  spec.side = a.side;
  spec.top = a.top;
  spec.bucket_ms = a.bucket_ms;
  Answer ans;
  ans.command = fmt::format(
      "flowscope stat {} -t {} -grp {} -cnt {}{} -n {}{}{}", source_.origin(), shell_quote(window_),
      plain_word(a.grp) ? a.grp : shell_quote(a.grp), a.cnt,
      a.side == query::Side::Send      ? " -snd"
      : a.side == query::Side::Receive ? " -rcv"
                                       : "",
      a.top, a.bucket_ms > 0 ? " --bucket " + format_duration(DurationMs(a.bucket_ms)) : "",
      spec.where.filter.empty() ? "" : " " + shell_quote(spec.where.filter));
  auto r = source_.stat(spec);
  if (!r) {
    Error e = r.error();
    e.message += " (in: " + ans.command + ")";
    return e;
  }
  if (a.bucket_ms > 0) query::span_window_buckets(spec, *r);
  ans.result = std::move(*r);
  return ans;
}

Report ReportBuilder::start(const std::string& title) const {
  Report r;
  r.title = title;
  const auto days = (options_.end_ms - options_.begin_ms) / 86'400'000.0;
  r.subtitle = fmt::format("{} to {} ({:.4g} days)",
                           format_time(time_from_ms(options_.begin_ms), options_.zone),
                           format_time(time_from_ms(options_.end_ms), options_.zone), days);
  if (!options_.now_text.empty()) r.generated = "generated " + options_.now_text + " by flowscope";
  r.selection.push_back("location: " + (options_.location.empty() ? "any" : options_.location));
  r.selection.push_back("activity: " + (options_.activity.empty() ? "any" : options_.activity));
  r.selection.push_back("host: " + (options_.host.empty() ? "any" : options_.host));
  r.selection.push_back(fmt::format("top {}", options_.top));
  r.selection.push_back(fmt::format("threshold {} b/s", options_.threshold_bps));
  return r;
}

Result<Section> ReportBuilder::summary(const std::string& heading, const std::string& filter) {
  Section s;
  s.heading = heading;
  auto totals = ask({.grp = "", .cnt = "bytes", .top = 0, .filter = filter});
  if (!totals) return totals.error();
  const auto& t = totals->result.total;
  Table table;
  table.title = "Totals";
  table.columns = {"Measure", "Value"};
  table.rows.push_back({text_cell("Volume (bytes, both directions)"), bytes_cell(t.bytes)});
  table.rows.push_back({text_cell("Packets"), count_cell(t.packets)});
  table.rows.push_back({text_cell("Sessions"), count_cell(t.sessions)});
  table.query = totals->command;
  auto tr = traffic(filter);
  if (!tr) return tr.error();
  std::vector<double> both(tr->buckets.size());
  double out = 0, in = 0;
  for (std::size_t b = 0; b < both.size(); ++b) {
    both[b] = (tr->out_bytes[b] + tr->in_bytes[b]) * 8.0 / (kPeakBucketMs / 1000.0);
    out += tr->out_bytes[b];
    in += tr->in_bytes[b];
  }
  s.figures.push_back({"Total volume", human_bytes(static_cast<double>(t.bytes))});
  s.figures.push_back({"Out (client to server)", human_bytes(out)});
  s.figures.push_back({"In (server to client)", human_bytes(in)});
  s.figures.push_back({"Sessions", with_commas(t.sessions)});
  s.figures.push_back(
      {"Average rate", human_rate(seconds_ > 0 ? static_cast<double>(t.bytes) * 8 / seconds_ : 0)});
  s.figures.push_back({"95th percentile (5 min)", human_rate(percentile95(both))});
  s.tables.push_back(std::move(table));
  traffic_section(s, *tr, heading);
  return s;
}

Result<Traffic> ReportBuilder::traffic(const std::string& filter) {
  Traffic t;
  auto out = ask({.grp = "",
                  .cnt = "bytes",
                  .side = query::Side::Send,
                  .top = 0,
                  .bucket_ms = kPeakBucketMs,
                  .filter = filter});
  if (!out) return out.error();
  auto in = ask({.grp = "",
                 .cnt = "bytes",
                 .side = query::Side::Receive,
                 .top = 0,
                 .bucket_ms = kPeakBucketMs,
                 .filter = filter});
  if (!in) return in.error();
  t.buckets = out->result.buckets;
  for (std::size_t b = 0; b < t.buckets.size(); ++b) {
    t.out_bytes.push_back(bucket_sum(out->result, b));
    t.in_bytes.push_back(b < in->result.buckets.size() ? bucket_sum(in->result, b) : 0);
  }
  t.command_out = out->command;
  t.command_in = in->command;
  return t;
}

void ReportBuilder::traffic_section(Section& s, const Traffic& t, const std::string& what) const {
  const double bucket_s = kPeakBucketMs / 1000.0;
  std::vector<double> out_bps, in_bps, both_bps;
  for (std::size_t b = 0; b < t.buckets.size(); ++b) {
    out_bps.push_back(t.out_bytes[b] * 8 / bucket_s);
    in_bps.push_back(t.in_bytes[b] * 8 / bucket_s);
    both_bps.push_back(out_bps.back() + in_bps.back());
  }
  // The chart: about 120 points, each the mean of its 5-minute buckets.
  const std::int64_t chart_ms = std::max<std::int64_t>(
      kPeakBucketMs, query::graph_bucket_ms(options_.end_ms - options_.begin_ms));
  const std::size_t per =
      static_cast<std::size_t>(std::max<std::int64_t>(1, chart_ms / kPeakBucketMs));
  Chart c;
  c.kind = ChartKind::Lines;
  c.title = "Traffic over time: " + what;
  c.unit = "b/s";
  c.names = {"out (client to server)", "in (server to client)"};
  c.series.resize(2);
  for (std::size_t b = 0; b < t.buckets.size(); b += per) {
    double o = 0, i = 0;
    std::size_t n = 0;
    for (std::size_t k = b; k < std::min(t.buckets.size(), b + per); ++k, ++n) {
      o += out_bps[k];
      i += in_bps[k];
    }
    c.times.push_back(t.buckets[b]);
    c.series[0].push_back(n ? o / static_cast<double>(n) : 0);
    c.series[1].push_back(n ? i / static_cast<double>(n) : 0);
  }
  c.marker = std::max(percentile95(out_bps), percentile95(in_bps));
  c.marker_label = "95th percentile " + human_rate(c.marker);
  c.query = t.command_out + "\n" + t.command_in;
  s.charts.push_back(std::move(c));

  Table peaks;
  peaks.title = "Peaks (5-minute averages)";
  peaks.columns = {"Direction", "Volume", "Average", "95th percentile", "Busiest 5 min"};
  auto row = [&](const std::string& name, const std::vector<double>& bps,
                 const std::vector<double>* bytes_a, const std::vector<double>* bytes_b) {
    double total = 0;
    for (std::size_t b = 0; b < bps.size(); ++b) {
      total += (*bytes_a)[b] + (bytes_b ? (*bytes_b)[b] : 0);
    }
    const double mx = bps.empty() ? 0 : *std::max_element(bps.begin(), bps.end());
    peaks.rows.push_back({text_cell(name), bytes_cell(static_cast<std::uint64_t>(total)),
                          text_cell(human_rate(seconds_ > 0 ? total * 8 / seconds_ : 0)),
                          text_cell(human_rate(percentile95(bps))), text_cell(human_rate(mx))});
  };
  row("out (client to server)", out_bps, &t.out_bytes, nullptr);
  row("in (server to client)", in_bps, &t.in_bytes, nullptr);
  row("both", both_bps, &t.out_bytes, &t.in_bytes);
  peaks.query = t.command_out + "\n" + t.command_in;
  peaks.note =
      "rates of the 5-minute buckets of the window (empty ones count as 0); the 95th "
      "percentile is the nearest-rank value";
  s.tables.push_back(std::move(peaks));
}

Result<void> ReportBuilder::ranked(Section& s, const std::string& title, const std::string& grp,
                                   const std::string& filter, bool fold, bool chart) {
  auto a = ask({.grp = grp,
                .cnt = "bytes",
                .top = static_cast<std::uint64_t>(options_.top),
                .filter = filter});
  if (!a) return a.error();
  const query::StatResult& r = a->result;
  Table t;
  t.title = title;
  t.columns = {"#"};
  for (const auto& k : r.group_by) {
    const std::string name = query::group_key_text(k);
    t.columns.push_back(name == "cln_addr"   ? "Client"
                        : name == "srv_addr" ? "Server"
                        : name == "addr"     ? "Host"
                        : name == "service"  ? "Service"
                        : name == "country"  ? "Country"
                        : name == "proto"    ? "Protocol"
                                             : name);
  }
  for (const char* c : {"Volume", "Share", "Average rate", "Sessions"}) t.columns.push_back(c);
  std::uint64_t shown_bytes = 0, shown_sessions = 0, shown = 0, folded = 0;
  Chart bars;
  bars.kind = ChartKind::Bars;
  bars.title = title;
  bars.unit = "bytes";
  bars.series.resize(1);
  for (std::size_t row = 0; row < r.rows.size(); ++row) {
    const auto& v = r.rows[row];
    const double rate = seconds_ > 0 ? static_cast<double>(v.bytes) * 8 / seconds_ : 0;
    if (fold && rate < static_cast<double>(options_.threshold_bps)) {
      ++folded;
      continue;
    }
    std::vector<Cell> cells = {text_cell(std::to_string(shown + 1))};
    std::string label;
    for (std::size_t k = 0; k < r.group_by.size(); ++k) {
      cells.push_back(text_cell(key_label(r, k, row)));
      label += (label.empty() ? "" : " > ") + cells.back().text;
    }
    cells.push_back(bytes_cell(v.bytes));
    cells.push_back(
        text_cell(percent(static_cast<double>(v.bytes), static_cast<double>(r.total.bytes))));
    cells.push_back(text_cell(human_rate(rate)));
    cells.push_back(count_cell(v.sessions));
    t.rows.push_back(std::move(cells));
    bars.labels.push_back(label);
    bars.series[0].push_back(static_cast<double>(v.bytes));
    shown_bytes += v.bytes;
    shown_sessions += v.sessions;
    ++shown;
  }
  const std::uint64_t others_bytes = r.total.bytes - std::min(r.total.bytes, shown_bytes);
  const std::uint64_t others_sessions =
      r.total.sessions - std::min(r.total.sessions, shown_sessions);
  auto footer = [&](std::string name, std::uint64_t bytes, std::uint64_t sessions) {
    std::vector<Cell> cells = {text_cell("")};
    cells.push_back(text_cell(std::move(name)));
    for (std::size_t k = 1; k < r.group_by.size(); ++k) cells.push_back(text_cell(""));
    cells.push_back(bytes_cell(bytes));
    cells.push_back(
        text_cell(percent(static_cast<double>(bytes), static_cast<double>(r.total.bytes))));
    cells.push_back(
        text_cell(human_rate(seconds_ > 0 ? static_cast<double>(bytes) * 8 / seconds_ : 0)));
    cells.push_back(count_cell(sessions));
    t.rows.push_back(std::move(cells));
  };
  footer(fmt::format("others ({})", r.total_groups - shown), others_bytes, others_sessions);
  footer(fmt::format("total ({})", r.total_groups), r.total.bytes, r.total.sessions);
  t.footer_rows = 2;
  t.query = a->command;
  if (fold) {
    t.note = fmt::format("below {} b/s on average: folded into 'others' ({} of the top {})",
                         options_.threshold_bps, folded, options_.top);
  }
  if (r.group_by.size() == 1 && r.group_by[0].field == FieldId::Addr) {
    t.note += std::string(t.note.empty() ? "" : "; ") +
              "a host counts both directions of its sessions, so totals count each session once "
              "per side";
  }
  // A chart of nothing but "(unknown)" (no GeoIP for countries, no service names) says less
  // than a sentence.
  if (std::all_of(bars.labels.begin(), bars.labels.end(),
                  [](const std::string& l) { return l == "(unknown)"; })) {
    if (!bars.labels.empty()) {
      s.paragraphs.push_back(
          title + ": not known for these sessions (" +
          (grp == "country" ? "give GeoIP databases in [enrich]" : "no names for their ports") +
          ").");
    }
    bars.labels.clear();
  }
  if (chart && !bars.labels.empty()) {
    bars.query = a->command;
    s.charts.push_back(std::move(bars));
  }
  s.tables.push_back(std::move(t));
  return ok();
}

Result<void> ReportBuilder::by_attribute(Section& s, bool location, const std::string& filter,
                                         bool chart) {
  const std::string what = location ? "location" : "activity";
  if (groups_ == nullptr) {
    s.paragraphs.push_back("No IP groups were given (--groups FILE), so sessions have no " + what +
                           ".");
    return ok();
  }
  // By id, not by name (`-grp group`): the location and activity come from the groups file
  // given here.
  auto a = ask({.grp = "group_id", .cnt = "bytes", .top = 0, .filter = filter});
  if (!a) return a.error();
  const query::StatResult& r = a->result;
  struct Sum {
    std::uint64_t bytes = 0, sessions = 0;
  };
  std::map<std::string, Sum> sums;
  FieldFormatOptions fo;
  for (std::size_t row = 0; row < r.rows.size(); ++row) {
    const std::string id = query::stat_key_text(r, 0, row, fo);
    std::string name = "(outside IP groups)";
    if (!id.empty()) {
      const enrich::IpGroup* g = nullptr;
      try {
        g = groups_->group(static_cast<std::uint32_t>(std::stoul(id)));
      } catch (const std::exception&) {
      }
      const std::string v = g == nullptr ? "" : location ? g->location : g->activity;
      name = v.empty() ? "(no " + what + ")" : v;
    }
    sums[name].bytes += r.rows[row].bytes;
    sums[name].sessions += r.rows[row].sessions;
  }
  std::vector<std::pair<std::string, Sum>> order(sums.begin(), sums.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& x, const auto& y) { return x.second.bytes > y.second.bytes; });
  Table t;
  t.title = location ? "Top locations" : "Top activities";
  t.columns = {"#",       location ? "Location" : "Activity", "Volume", "Share", "Average rate",
               "Sessions"};
  Chart bars;
  bars.kind = ChartKind::Bars;
  bars.title = t.title;
  bars.unit = "bytes";
  bars.series.resize(1);
  std::uint64_t shown_bytes = 0, shown_sessions = 0;
  std::size_t shown = 0;
  const double total = static_cast<double>(r.total.bytes);
  for (const auto& [name, sum] : order) {
    if (shown == static_cast<std::size_t>(options_.top)) break;
    ++shown;
    const double b = static_cast<double>(sum.bytes);
    t.rows.push_back({text_cell(std::to_string(shown)), text_cell(name), bytes_cell(sum.bytes),
                      text_cell(percent(b, total)),
                      text_cell(human_rate(seconds_ > 0 ? b * 8 / seconds_ : 0)),
                      count_cell(sum.sessions)});
    bars.labels.push_back(name);
    bars.series[0].push_back(b);
    shown_bytes += sum.bytes;
    shown_sessions += sum.sessions;
  }
  const std::uint64_t ob = r.total.bytes - std::min(r.total.bytes, shown_bytes);
  const std::uint64_t os = r.total.sessions - std::min(r.total.sessions, shown_sessions);
  t.rows.push_back(
      {text_cell(""), text_cell(fmt::format("others ({})", order.size() - shown)), bytes_cell(ob),
       text_cell(percent(static_cast<double>(ob), total)),
       text_cell(human_rate(seconds_ > 0 ? static_cast<double>(ob) * 8 / seconds_ : 0)),
       count_cell(os)});
  t.rows.push_back({text_cell(""), text_cell(fmt::format("total ({})", order.size())),
                    bytes_cell(r.total.bytes), text_cell(percent(total, total)),
                    text_cell(human_rate(seconds_ > 0 ? total * 8 / seconds_ : 0)),
                    count_cell(r.total.sessions)});
  t.footer_rows = 2;
  t.query = a->command;
  t.note = "the groups' rows summed per " + what +
           " of the IP groups file; a group counts both "
           "directions of its sessions, once per side";
  if (chart && !bars.labels.empty()) {
    bars.query = a->command;
    s.charts.push_back(std::move(bars));
  }
  s.tables.push_back(std::move(t));
  return ok();
}

Result<void> ReportBuilder::service_mix(Section& s, const std::string& filter) {
  auto a = ask({.grp = "proto", .cnt = "bytes", .top = 0, .filter = filter});
  if (!a) return a.error();
  const auto& r = a->result;
  Table t;
  t.title = "Protocols";
  t.columns = {"Protocol", "Volume", "Share", "Sessions", "Share of sessions"};
  for (std::size_t row = 0; row < r.rows.size(); ++row) {
    const auto& v = r.rows[row];
    t.rows.push_back(
        {text_cell(key_label(r, 0, row)), bytes_cell(v.bytes),
         text_cell(percent(static_cast<double>(v.bytes), static_cast<double>(r.total.bytes))),
         count_cell(v.sessions),
         text_cell(
             percent(static_cast<double>(v.sessions), static_cast<double>(r.total.sessions)))});
  }
  t.query = a->command;
  s.tables.push_back(std::move(t));
  return ok();
}

}  // namespace flowscope::report
