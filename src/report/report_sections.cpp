// The report types of report/report_builder.h: manager, operator, conversation and detail, put
// together from the builder's questions.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "query/output.h"

#include "report/report_builder.h"
#include "report/report_format.h"

// Asks are written as designated initializers that leave the defaults out; GCC's
// -Wmissing-field-initializers would flag every one of them.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace flowscope::report {
namespace {

std::string join_and(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return "(" + a + ") && (" + b + ")";
}

Cell count_cell(std::uint64_t v) { return Cell{with_commas(v), v}; }
Cell bytes_cell(std::uint64_t v) { return Cell{human_bytes(static_cast<double>(v)), v}; }
Cell text_cell(std::string t) { return Cell{std::move(t), std::nullopt}; }

std::string ms_text(double us) {
  return std::isnan(us) ? "-" : fmt::format("{:.1f} ms", us / 1000.0);
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];
}

}  // namespace

Result<Section> ReportBuilder::tcp_health(
    const std::vector<std::pair<std::string, std::string>>& parts) {
  Section s;
  s.heading = "TCP health";
  Table t;
  t.title = "Retransmissions and handshake round trips";
  t.columns = {"Part",        "TCP sessions",           "With retransmissions",
               "Share",       "Retransmitted segments", "RTT median",
               "RTT 95th pct"};
  std::string queries;
  bool measured = false;
  for (const auto& [label, filter] : parts) {
    const std::string tcp = join_and(filter, "PROTO == tcp");
    auto all = ask({.grp = "", .cnt = "sessions", .top = 0, .filter = tcp});
    if (!all) return all.error();
    auto re = ask({.grp = "",
                   .cnt = "sessions",
                   .top = 0,
                   .filter = join_and(tcp, "CLNRETR > 0 || SRVRETR > 0")});
    if (!re) return re.error();
    query::QuerySpec q;
    q.where.filter = and_selection(tcp);
    q.where.begin_ms = options_.begin_ms;
    q.where.end_ms = options_.end_ms;
    q.fields = {FieldId::ClnRtt, FieldId::SrvRtt, FieldId::ClnRetrans, FieldId::SrvRetrans};
    std::vector<double> rtts;
    std::uint64_t segments = 0;
    auto r = source_.rows(q, [&](const SessionBatch& rows) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows.is_set(FieldId::ClnRetrans, i)) segments += rows.get<FieldId::ClnRetrans>(i);
        if (rows.is_set(FieldId::SrvRetrans, i)) segments += rows.get<FieldId::SrvRetrans>(i);
        if (rows.is_set(FieldId::ClnRtt, i) && rows.is_set(FieldId::SrvRtt, i)) {
          rtts.push_back(static_cast<double>(rows.get<FieldId::ClnRtt>(i)) +
                         static_cast<double>(rows.get<FieldId::SrvRtt>(i)));
        }
      }
      return true;
    });
    if (!r) return r.error();
    measured = measured || !rtts.empty();
    const std::uint64_t n = all->result.total.sessions;
    const std::uint64_t k = re->result.total.sessions;
    t.rows.push_back({text_cell(label), count_cell(n), count_cell(k),
                      text_cell(percent(static_cast<double>(k), static_cast<double>(n))),
                      count_cell(segments), text_cell(ms_text(median(rtts))),
                      text_cell(rtts.empty() ? "-" : ms_text(percentile95(rtts)))});
    queries += (queries.empty() ? "" : "\n") + all->command + "\n" + re->command + "\n" +
               fmt::format(
                   "flowscope query {} -t {} -c 0 --fields "
                   "cln_rtt,srv_rtt,cln_retrans,srv_retrans {}",
                   source_.origin(), shell_quote(window_), shell_quote(q.where.filter));
  }
  t.query = queries;
  t.note = "RTT is the handshake round trip through the probe (client side + server side)";
  if (!measured) {
    s.paragraphs.push_back(
        "No TCP handshake was measured in this period: flow export (NetFlow, IPFIX, sFlow) does "
        "not carry round trips or retransmissions; flowscope capture does (docs/capture.md).");
  }
  s.tables.push_back(std::move(t));
  return s;
}

Result<Section> ReportBuilder::ftp(const std::string& filter) {
  Section s;
  s.heading = "FTP transfers";
  const std::string data = join_and(filter, "FTPCTRL > 0");
  auto count = ask({.grp = "", .cnt = "bytes", .top = 0, .filter = data});
  if (!count) return count.error();
  const auto& tot = count->result.total;
  if (tot.sessions == 0) {
    s.paragraphs.push_back(
        "No FTP data transfer in this period (transfers are attributed to their control "
        "session by flowscope capture, docs/capture.md).");
    return s;
  }
  s.figures.push_back({"FTP data sessions", with_commas(tot.sessions)});
  s.figures.push_back({"FTP volume", human_bytes(static_cast<double>(tot.bytes))});
  query::QuerySpec q;
  q.where.filter = and_selection(data);
  q.where.begin_ms = options_.begin_ms;
  q.where.end_ms = options_.end_ms;
  q.fields = {FieldId::StartTime, FieldId::ClnAddr,  FieldId::SrvAddr,
              FieldId::ClnBytes,  FieldId::SrvBytes, FieldId::FtpControl};
  q.sort = {{FieldId::TotalBytes, true}};
  q.limit = static_cast<std::uint64_t>(options_.top);
  struct Transfer {
    std::int64_t start;
    std::string cln, srv;
    std::uint64_t bytes, ctrl;
  };
  std::vector<Transfer> transfers;
  FieldFormatOptions fo;
  fo.zone = options_.zone;
  auto r = source_.rows(q, [&](const SessionBatch& rows) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      transfers.push_back(
          {rows.get<FieldId::StartTime>(i), query::field_text(rows, FieldId::ClnAddr, i, fo),
           query::field_text(rows, FieldId::SrvAddr, i, fo),
           (rows.is_set(FieldId::ClnBytes, i) ? rows.get<FieldId::ClnBytes>(i) : 0) +
               (rows.is_set(FieldId::SrvBytes, i) ? rows.get<FieldId::SrvBytes>(i) : 0),
           rows.get<FieldId::FtpControl>(i)});
    }
    return true;
  });
  if (!r) return r.error();
  Table t;
  t.title = fmt::format("Largest FTP transfers (top {})", options_.top);
  t.columns = {"Start", "Client", "Server", "Volume", "Control session"};
  for (const auto& tr : transfers) {
    // The control session the probe attributed the transfer to.
    query::QuerySpec c;
    c.where.filter = fmt::format("SESSID == {}", tr.ctrl);
    c.fields = {FieldId::ClnAddr, FieldId::SrvAddr, FieldId::SrvPort};
    c.limit = 1;
    std::string ctrl = fmt::format("#{}", tr.ctrl);
    auto cr = source_.rows(c, [&](const SessionBatch& rows) {
      if (rows.size() > 0) {
        ctrl = fmt::format("#{} {} -> {}:{}", tr.ctrl,
                           query::field_text(rows, FieldId::ClnAddr, 0, fo),
                           query::field_text(rows, FieldId::SrvAddr, 0, fo),
                           query::field_text(rows, FieldId::SrvPort, 0, fo));
      }
      return false;
    });
    if (!cr) return cr.error();
    t.rows.push_back({text_cell(format_time(time_from_ms(tr.start), options_.zone)),
                      text_cell(tr.cln), text_cell(tr.srv), bytes_cell(tr.bytes), text_cell(ctrl)});
  }
  t.query = count->command + "\n" +
            fmt::format(
                "flowscope query {} -t {} -O total_bytes:desc -c {} --fields "
                "start_time,cln_addr,srv_addr,cln_bytes,srv_bytes,ftp_ctrl_id {}",
                source_.origin(), shell_quote(window_), options_.top, shell_quote(q.where.filter));
  s.tables.push_back(std::move(t));
  return s;
}

Result<Report> ReportBuilder::manager() {
  Report rep = start("Network volume: manager report");
  auto sum = summary("Summary", "");
  if (!sum) return sum.error();
  rep.sections.push_back(std::move(*sum));

  Section where;
  where.heading = "Where the traffic goes";
  where.new_page = true;
  if (auto r = by_attribute(where, true, "", true); !r) return r.error();
  if (auto r = by_attribute(where, false, "", true); !r) return r.error();
  rep.sections.push_back(std::move(where));

  Section who;
  who.heading = "Who and what";
  who.new_page = true;
  if (auto r = ranked(who, "Top hosts", "host", "", true, true); !r) return r.error();
  if (auto r = ranked(who, "Top services", "service", "", false, true); !r) return r.error();
  if (auto r = ranked(who, "Top countries", "country", "", false, true); !r) return r.error();
  rep.sections.push_back(std::move(who));

  Section mix;
  mix.heading = "Service mix";
  if (auto r = service_mix(mix, ""); !r) return r.error();
  rep.sections.push_back(std::move(mix));
  return rep;
}

Result<Report> ReportBuilder::operator_report() {
  Report rep = start("Network volume: operator report");
  auto sum = summary("Summary", "");
  if (!sum) return sum.error();
  rep.sections.push_back(std::move(*sum));

  std::vector<std::pair<std::string, std::string>> parts;
  for (bool location : {true, false}) {
    std::vector<std::string> values = attribute_values(location);
    const std::string& chosen = location ? options_.location : options_.activity;
    if (!chosen.empty()) values = {chosen};
    if (values.size() > static_cast<std::size_t>(options_.top)) values.resize(options_.top);
    for (const auto& v : values) {
      const std::string filter = attribute_filter(location, v);
      auto s = summary(std::string(location ? "Location: " : "Activity: ") + v, filter);
      if (!s) return s.error();
      s->new_page = true;
      if (auto r = ranked(*s, "Top hosts", "host", filter, true, false); !r) return r.error();
      if (auto r = ranked(*s, "Top services", "service", filter, false, false); !r) {
        return r.error();
      }
      rep.sections.push_back(std::move(*s));
      if (location) parts.emplace_back(v, filter);
    }
  }
  if (groups_ == nullptr) {
    rep.sections.front().paragraphs.push_back(
        "No IP groups were given (--groups FILE): there are no per-location or per-activity "
        "sections.");
  }
  parts.emplace_back("all", "");
  auto health = tcp_health(parts);
  if (!health) return health.error();
  health->new_page = true;
  rep.sections.push_back(std::move(*health));
  auto f = ftp("");
  if (!f) return f.error();
  rep.sections.push_back(std::move(*f));
  return rep;
}

Result<Report> ReportBuilder::conversation() {
  Report rep = start("Network volume: conversation report");
  auto sum = summary("Summary", "");
  if (!sum) return sum.error();
  rep.sections.push_back(std::move(*sum));

  Section m;
  m.heading = "Conversation matrix";
  m.new_page = true;
  if (groups_ != nullptr) {
    auto a = ask({.grp = "cln_group,srv_group", .cnt = "bytes", .top = 0});
    if (!a) return a.error();
    const auto& r = a->result;
    auto loc = [&](std::size_t k, std::size_t row) {
      FieldFormatOptions fo;
      const std::string id = query::stat_key_text(r, k, row, fo);
      if (id.empty()) return std::string("(outside)");
      const enrich::IpGroup* g = nullptr;
      try {
        g = groups_->group(static_cast<std::uint32_t>(std::stoul(id)));
      } catch (const std::exception&) {
      }
      return g == nullptr || g->location.empty() ? std::string("(no location)") : g->location;
    };
    std::map<std::pair<std::string, std::string>, std::uint64_t> cells;
    std::map<std::string, std::uint64_t> volume;
    for (std::size_t row = 0; row < r.rows.size(); ++row) {
      const std::string c = loc(0, row), sv = loc(1, row);
      cells[{c, sv}] += r.rows[row].bytes;
      volume[c] += r.rows[row].bytes;
      volume[sv] += r.rows[row].bytes;
    }
    std::vector<std::pair<std::string, std::uint64_t>> order(volume.begin(), volume.end());
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
    if (order.size() > static_cast<std::size_t>(options_.top)) order.resize(options_.top);
    Table t;
    t.title = "Locations: clients (rows) to servers (columns), bytes both ways";
    t.columns = {"Client \\ Server"};
    for (const auto& [name, v] : order) t.columns.push_back(name);
    for (const auto& [row_name, rv] : order) {
      std::vector<Cell> cells_row = {text_cell(row_name)};
      for (const auto& [col_name, cv] : order) {
        auto it = cells.find({row_name, col_name});
        cells_row.push_back(it == cells.end() ? Cell{"-", 0} : bytes_cell(it->second));
      }
      t.rows.push_back(std::move(cells_row));
    }
    t.query = a->command;
    t.note = fmt::format("the {} busiest locations; group pairs summed per location", order.size());
    m.tables.push_back(std::move(t));
  }
  // Hosts: the top hosts and what each sent to each.
  auto hosts =
      ask({.grp = "host", .cnt = "bytes", .top = static_cast<std::uint64_t>(options_.top)});
  if (!hosts) return hosts.error();
  std::vector<std::string> names;
  FieldFormatOptions fo;
  for (std::size_t row = 0; row < hosts->result.rows.size(); ++row) {
    const std::string h = query::stat_key_text(hosts->result, 0, row, fo);
    if (!h.empty()) names.push_back(h);
  }
  if (!names.empty()) {
    std::string cl, sv;
    for (const auto& h : names) {
      cl += (cl.empty() ? "" : " || ") + ("CLNIP == " + h);
      sv += (sv.empty() ? "" : " || ") + ("SRVIP == " + h);
    }
    auto pairs = ask({.grp = "pair", .cnt = "bytes", .top = 0, .filter = join_and(cl, sv)});
    if (!pairs) return pairs.error();
    std::map<std::pair<std::string, std::string>, std::uint64_t> cells;
    for (std::size_t row = 0; row < pairs->result.rows.size(); ++row) {
      cells[{query::stat_key_text(pairs->result, 0, row, fo),
             query::stat_key_text(pairs->result, 1, row, fo)}] += pairs->result.rows[row].bytes;
    }
    Table t;
    t.title = fmt::format("Top {} hosts: clients (rows) to servers (columns)", names.size());
    t.columns = {"Client \\ Server"};
    for (const auto& h : names) t.columns.push_back(h);
    for (const auto& c : names) {
      std::vector<Cell> row = {text_cell(c)};
      for (const auto& s2 : names) {
        auto it = cells.find({c, s2});
        row.push_back(it == cells.end() ? Cell{"-", 0} : bytes_cell(it->second));
      }
      t.rows.push_back(std::move(row));
    }
    t.query = hosts->command + "\n" + pairs->command;
    m.tables.push_back(std::move(t));
  }
  rep.sections.push_back(std::move(m));

  Section p;
  p.heading = "Top conversations";
  p.new_page = true;
  if (auto r = ranked(p, "Top host pairs", "pair", "", true, true); !r) return r.error();
  // The services of each shown pair.
  Table& pairs = p.tables.back();
  pairs.columns.push_back("Services");
  std::string notes;
  for (auto& row : pairs.rows) {
    if (row[0].text.empty()) {  // others, total
      row.push_back(text_cell(""));
      continue;
    }
    const std::string f = "CLNIP == " + row[1].text + " && SRVIP == " + row[2].text;
    auto svc = ask({.grp = "service", .cnt = "bytes", .top = 3, .filter = f});
    if (!svc) return svc.error();
    std::string text;
    for (std::size_t i = 0; i < svc->result.rows.size(); ++i) {
      text += (text.empty() ? "" : ", ") + key_label(svc->result, 0, i) + " " +
              percent(static_cast<double>(svc->result.rows[i].bytes),
                      static_cast<double>(svc->result.total.bytes));
    }
    row.push_back(text_cell(text));
    notes += "\n" + svc->command;
  }
  pairs.query += notes;
  rep.sections.push_back(std::move(p));
  return rep;
}

Result<std::vector<DetailHost>> ReportBuilder::detail(const std::vector<Cidr>& patterns) {
  constexpr std::size_t kMaxHosts = 1000;
  std::vector<std::string> hosts;
  std::set<std::string> seen;
  FieldFormatOptions fo;
  for (const auto& c : patterns) {
    const std::string text = c.to_string();
    auto a = ask({.grp = "host", .cnt = "bytes", .top = 0, .filter = "ADDR == " + text});
    if (!a) return a.error();
    for (std::size_t row = 0; row < a->result.rows.size(); ++row) {
      const std::string h = query::stat_key_text(a->result, 0, row, fo);
      auto addr = IpAddress::parse(h);
      if (!addr || !c.contains(*addr) || !seen.insert(h).second) continue;
      hosts.push_back(h);
      if (hosts.size() == kMaxHosts) break;
    }
  }
  std::vector<DetailHost> out;
  for (const auto& h : hosts) {
    const std::string f = "ADDR == " + h;
    Report rep = start("Protocol detail: " + h);
    Section v;
    v.heading = "Volumes";
    Table t;
    t.title = "Volumes per direction";
    t.columns = {"Direction", "Volume", "Packets", "Sessions"};
    std::string q;
    for (query::Side side : {query::Side::Send, query::Side::Receive}) {
      auto a = ask({.grp = "host", .cnt = "bytes", .side = side, .top = 0, .filter = f});
      if (!a) return a.error();
      for (std::size_t row = 0; row < a->result.rows.size(); ++row) {
        if (query::stat_key_text(a->result, 0, row, fo) != h) continue;
        const auto& r = a->result.rows[row];
        t.rows.push_back({text_cell(side == query::Side::Send ? "sent" : "received"),
                          bytes_cell(r.bytes), count_cell(r.packets), count_cell(r.sessions)});
      }
      q += (q.empty() ? "" : "\n") + a->command + "   (the row of " + h + ")";
    }
    t.query = q;
    v.tables.push_back(std::move(t));
    if (auto r = ranked(v, "Services", "service", f, false, true); !r) return r.error();
    rep.sections.push_back(std::move(v));
    Section peers;
    peers.heading = "Peers";
    if (auto r = ranked(peers, "Servers it talked to (as a client)", "srv_addr", "CLNIP == " + h,
                        false, false);
        !r) {
      return r.error();
    }
    if (auto r = ranked(peers, "Clients that talked to it (as a server)", "cln_addr",
                        "SRVIP == " + h, false, false);
        !r) {
      return r.error();
    }
    rep.sections.push_back(std::move(peers));
    auto health = tcp_health({{h, f}});
    if (!health) return health.error();
    rep.sections.push_back(std::move(*health));
    auto transfers = ftp(f);
    if (!transfers) return transfers.error();
    rep.sections.push_back(std::move(*transfers));
    out.push_back({h, std::move(rep)});
  }
  return out;
}

}  // namespace flowscope::report
