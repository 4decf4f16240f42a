#include "capture/tcpflow/netviz.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace flowscope::capture::tcpflow {

// ---- IpTree ----------------------------------------------------------------------------------

struct IpTree::Node {
  explicit Node(Node* p) : parent(p) {}
  Node* parent;
  std::unique_ptr<Node> child[2];
  std::uint64_t tsum = 0;  // this node's own count (pruned children included)
};

IpTree::IpTree(std::size_t max_nodes)
    : root_(std::make_unique<Node>(nullptr)), max_nodes_(max_nodes) {}
IpTree::~IpTree() = default;

bool IpTree::is_leaf(const Node& n) { return n.tsum > 0 && !n.child[0] && !n.child[1]; }

std::uint64_t IpTree::subtree_sum(const Node& n) {
  std::uint64_t s = n.tsum;
  for (const auto& c : n.child) {
    if (c) s += subtree_sum(*c);
  }
  return s;
}

std::uint64_t IpTree::sum() const { return subtree_sum(*root_); }

// The node to prune: one whose children are all leaves; between two candidate subtrees the one
// with the smaller sum, the deeper one on a tie (tcpflow's best_to_prune).
IpTree::Best IpTree::best_to_prune(Node& n, int depth) const {
  auto leafish = [](const std::unique_ptr<Node>& c) { return !c || is_leaf(*c); };
  if (leafish(n.child[0]) && leafish(n.child[1])) return {&n, depth};
  if (leafish(n.child[0])) return best_to_prune(*n.child[1], depth + 1);
  if (leafish(n.child[1])) return best_to_prune(*n.child[0], depth + 1);
  const Best b0 = best_to_prune(*n.child[0], depth + 1);
  const Best b1 = best_to_prune(*n.child[1], depth + 1);
  const std::uint64_t s0 = subtree_sum(*b0.node);
  const std::uint64_t s1 = subtree_sum(*b1.node);
  return (s0 < s1 || (s0 == s1 && b0.depth > b1.depth)) ? b0 : b1;
}

void IpTree::prune(Node& n) {
  for (auto& c : n.child) {
    if (!c) continue;
    n.tsum += c->tsum;
    for (auto& e : cache_) {
      if (e.node == c.get()) {
        e.node = nullptr;
        break;
      }
    }
    c.reset();
    --nodes_;
  }
}

void IpTree::add(const std::uint8_t* addr, std::size_t len, std::uint64_t value) {
  while (nodes_ > max_nodes_) {
    if (is_leaf(*root_)) break;
    const Best b = best_to_prune(*root_, 0);
    if (b.node == nullptr) break;
    prune(*b.node);
  }
  len = std::min<std::size_t>(len, 16);
  for (auto& e : cache_) {
    if (e.node != nullptr && std::memcmp(e.addr.data(), addr, len) == 0) {
      e.node->tsum += value;
      return;
    }
  }
  auto remember = [&](Node* n) {
    if (++cache_next_ >= cache_.size()) cache_next_ = 0;
    std::memcpy(cache_[cache_next_].addr.data(), addr, len);
    cache_[cache_next_].node = n;
  };
  const std::size_t bits = len * 8;
  Node* n = root_.get();
  for (std::size_t depth = 0;; ++depth) {
    if (depth == bits || is_leaf(*n)) {
      n->tsum += value;
      remember(n);
      return;
    }
    const int bit = (addr[depth / 8] >> (7 - depth % 8)) & 1;
    if (!n->child[bit]) {
      n->child[bit] = std::make_unique<Node>(n);
      ++nodes_;
    }
    n = n->child[bit].get();
  }
}

void IpTree::collect(const Node& n, int depth, std::array<std::uint8_t, 16> addr,
                     std::vector<Entry>& out) const {
  if (n.tsum > 0) out.push_back(Entry{addr, depth, n.tsum});
  if (depth > 128) return;
  if (n.child[0]) collect(*n.child[0], depth + 1, addr, out);
  if (n.child[1] && depth < 128) {
    addr[static_cast<std::size_t>(depth) / 8] |= static_cast<std::uint8_t>(1u << (7 - depth % 8));
    collect(*n.child[1], depth + 1, addr, out);
  }
}

std::vector<IpTree::Entry> IpTree::histogram() const {
  std::vector<Entry> out;
  collect(*root_, 0, {}, out);
  return out;
}

std::string IpTree::Entry::text() const {
  const bool v4 = std::all_of(addr.begin() + 4, addr.end(), [](std::uint8_t b) { return b == 0; });
  if (v4) {
    std::string s = fmt::format("{}.{}.{}.{}", addr[0], addr[1], addr[2], addr[3]);
    if (depth < 32) s += fmt::format("/{}", depth);
    return s;
  }
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
  std::string s = buf;
  if (depth < 128) s += fmt::format("/{}", depth);
  return s;
}

// ---- TimeHistogram ---------------------------------------------------------------------------

std::uint64_t TimeHistogram::Bucket::sum() const {
  std::uint64_t s = portless;
  for (const auto& [port, n] : by_port) s += n;
  return s;
}

bool TimeHistogram::Scale::insert(std::uint64_t usec, std::uint16_t port, std::uint64_t count,
                                  bool portless) {
  if (base_time == 0) {
    // A tenth of the scale before the first packet (tcpflow's underflow pad, 0.1f), snapped
    // to a bucket boundary.
    const auto pad = static_cast<std::uint64_t>(static_cast<float>(bucket_count) * 0.1f);
    base_time = usec - bucket_width * pad;
    base_time = base_time / bucket_width * bucket_width;
  }
  const std::uint32_t index = usec < base_time
                                  ? 0xffffffffu
                                  : static_cast<std::uint32_t>((usec - base_time) / bucket_width);
  if (index >= bucket_count) return false;
  Bucket& b = buckets[index];
  if (portless) {
    b.portless += count;
  } else {
    b.by_port[port] += count;
  }
  inserted += count;
  return true;
}

TimeHistogram::TimeHistogram() {
  constexpr std::uint64_t kSec = 1000000;
  constexpr std::uint64_t kDay = kSec * 3600 * 24;
  const std::pair<std::uint64_t, std::uint64_t> spans[] = {
      {kSec * 60, 600}, {kSec * 3600, 3600},   {kDay, 1440},       {kDay * 7, 1008},
      {kDay * 30, 720}, {kDay * 30 * 12, 360}, {kDay * 3598, 514}, {kDay * 30 * 12 * 50, 200},
  };
  for (const auto& [usec, count] : spans) {
    Scale s;
    s.span_usec = usec;
    s.bucket_count = count;
    s.bucket_width = usec / count;
    scales_.push_back(std::move(s));
  }
}

void TimeHistogram::insert(PcapTime ts, std::uint16_t port, std::uint64_t count, bool portless) {
  if (earliest_.sec == 0 || ts.sec < earliest_.sec ||
      (ts.sec == earliest_.sec && ts.usec < earliest_.usec)) {
    earliest_ = ts;
  }
  if (ts.sec > latest_.sec || (ts.sec == latest_.sec && ts.usec > latest_.usec)) latest_ = ts;
  const auto usec = static_cast<std::uint64_t>(ts.sec * 1000000 + ts.usec);
  // As tcpflow: every scale from the current best on takes the packet; each one that
  // overflows moves the best one step coarser.
  for (std::size_t i = best_; i < scales_.size(); ++i) {
    if (!scales_[i].insert(usec, port, count, portless) && best_ < scales_.size() - 1) ++best_;
  }
}

void TimeHistogram::condense(std::uint64_t factor) {
  const Scale& original = scales_.at(best_);
  Scale condensed;
  condensed.span_usec = original.span_usec;
  condensed.bucket_count = static_cast<std::uint64_t>(static_cast<double>(original.bucket_count) /
                                                      static_cast<double>(factor));
  if (condensed.bucket_count == 0) condensed.bucket_count = 1;
  condensed.bucket_width = condensed.span_usec / condensed.bucket_count;
  for (const auto& [index, bucket] : original.buckets) {
    const std::uint64_t usec = index * original.bucket_width + original.base_time;
    for (const auto& [port, n] : bucket.by_port) condensed.insert(usec, port, n, false);
    condensed.insert(usec, 0, bucket.portless, true);
  }
  scales_.at(best_) = std::move(condensed);
}

std::size_t TimeHistogram::non_sparse_size() const {
  const auto& b = best().buckets;
  if (b.empty()) return 0;
  return b.rbegin()->first - b.begin()->first + 1;
}

// ---- NetvizData -------------------------------------------------------------------------------

namespace {

// Ports tcpflow colours in the time histogram (HTTP and its alternates, HTTPS, SSH, FTP).
bool precoloured_port(std::uint16_t p) {
  switch (p) {
    case 80:
    case 8080:
    case 8000:
    case 8888:
    case 81:
    case 82:
    case 8090:
    case 443:
    case 22:
    case 20:
    case 21: return true;
    default: return false;
  }
}

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((std::uint16_t{p[0]} << 8) | p[1]);
}

std::vector<PortCount> top_of(const std::map<std::uint16_t, std::uint64_t>& counts) {
  std::vector<PortCount> v;
  v.reserve(counts.size());
  for (const auto& [port, n] : counts) v.push_back({port, n});
  std::stable_sort(v.begin(), v.end(), [](const PortCount& a, const PortCount& b) {
    return a.count != b.count ? a.count > b.count : a.port < b.port;
  });
  if (v.size() > 10) v.resize(10);
  return v;
}

std::string local_time(std::int64_t sec) {
  const auto t = static_cast<std::time_t>(sec);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", 1900 + tm.tm_year, 1 + tm.tm_mon,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

NetvizData::NetvizData(std::size_t max_histogram_size)
    : src_tree_(max_histogram_size), dst_tree_(max_histogram_size) {}

void NetvizData::ingest(PcapTime ts, std::uint32_t wire_length, std::uint16_t ether_type,
                        std::span<const std::uint8_t> ip) {
  if (earliest_.sec == 0 || ts.sec < earliest_.sec ||
      (ts.sec == earliest_.sec && ts.usec < earliest_.usec)) {
    earliest_ = ts;
  }
  if (ts.sec > latest_.sec || (ts.sec == latest_.sec && ts.usec > latest_.usec)) latest_ = ts;
  const std::uint64_t len = wire_length;
  ++packets_;
  bytes_ += len;
  transports_[ether_type] += len;
  // tcpflow reads the version from any 20-byte IP buffer, and ports at a fixed offset after a
  // 20-byte (IPv4, options ignored) or 40-byte (IPv6) header.
  const int version = ip.size() >= 20 ? ip[0] >> 4 : 0;
  std::size_t tcp_at = 0;
  bool tcp = false;
  if (version == 4) {
    src_tree_.add(ip.data() + 12, 4, len);
    dst_tree_.add(ip.data() + 16, 4, len);
    tcp_at = 20;
    tcp = ip.size() >= 40 && ip[9] == 6;
  } else if (version == 6) {
    // An IPv6 header in fewer than 40 captured bytes: tcpflow reads past them; we read what
    // is there (zeros beyond).
    std::array<std::uint8_t, 40> h{};
    std::memcpy(h.data(), ip.data(), std::min<std::size_t>(ip.size(), 40));
    src_tree_.add(h.data() + 8, 16, len);
    dst_tree_.add(h.data() + 24, 16, len);
    tcp_at = 40;
    tcp = ip.size() >= 60 && ip[6] == 6;
  }
  if (!tcp) {
    time_.insert(ts, 0, len, true);
    return;
  }
  const std::uint16_t sport = be16(ip.data() + tcp_at);
  const std::uint16_t dport = be16(ip.data() + tcp_at + 2);
  // The port a packet counts for in the time histogram: the source port, unless only the
  // destination is a coloured one; when both are, every other packet takes the destination.
  std::uint16_t port = sport;
  const bool src_col = precoloured_port(sport);
  const bool dst_col = precoloured_port(dport);
  if (dst_col && !src_col) {
    port = dport;
  } else if (src_col && dst_col && packets_ % 2 == 0) {
    port = dport;
  }
  time_ports_[port] = true;
  time_.insert(ts, port, len, false);
  src_ports_[sport] += len;
  src_port_total_ += len;
  dst_ports_[dport] += len;
  dst_port_total_ += len;
}

std::vector<IpTree::Entry> NetvizData::top_addresses(bool source) const {
  auto v = (source ? src_tree_ : dst_tree_).histogram();
  std::stable_sort(v.begin(), v.end(), [](const IpTree::Entry& a, const IpTree::Entry& b) {
    if (a.count != b.count) return a.count > b.count;
    return a.addr > b.addr;
  });
  if (v.size() > 10) v.resize(10);
  return v;
}

std::uint64_t NetvizData::address_total(bool source) const {
  return (source ? src_tree_ : dst_tree_).sum();
}

std::vector<PortCount> NetvizData::top_ports(bool source) const {
  return top_of(source ? src_ports_ : dst_ports_);
}

std::string NetvizData::date_range_line() const {
  return fmt::format("Date range: {} -- {}", local_time(earliest_.sec), local_time(latest_.sec));
}

std::string NetvizData::packets_line() const {
  return fmt::format("Packets analyzed: {} ({})", comma_number(packets_),
                     pretty_byte_total(bytes_));
}

std::string NetvizData::transports_line() const {
  std::uint64_t total = 0;
  for (const auto& [type, n] : transports_) total += n;
  std::string s = "Transports: ";
  if (total == 0) return s;
  const std::pair<std::uint16_t, const char*> shown[] = {
      {0x0800, "IPv4"}, {0x86dd, "IPv6"}, {0x0806, "ARP"}, {0x8100, "VLAN"}};
  std::uint64_t classified = 0;
  for (const auto& [type, name] : shown) {
    const auto it = transports_.find(type);
    const std::uint64_t n = it == transports_.end() ? 0 : it->second;
    classified += n;
    const auto pct =
        static_cast<unsigned>(static_cast<double>(n) / static_cast<double>(total) * 100.0);
    if (pct > 0) s += fmt::format("{} {}% ", name, pct);
  }
  const auto other = static_cast<unsigned>(static_cast<double>(total - classified) /
                                           static_cast<double>(total) * 100.0);
  if (other > 0) s += fmt::format("Other {}% ", other);
  return s;
}

std::string pretty_byte_total(std::uint64_t bytes) {
  static constexpr const char* kSuffixes[] = {"", "K", "M", "G", "T", "P", "E"};
  std::size_t unit = 0;
  if (bytes > 0) {
    unit = static_cast<std::size_t>(std::log(static_cast<double>(bytes)) / std::log(1000.0));
    if (unit >= std::size(kSuffixes)) unit = 0;
  }
  const int precision = unit == 0 ? 0 : 2;
  return fmt::format("{:.{}f} {}B", static_cast<double>(bytes) / std::pow(1000.0, unit), precision,
                     kSuffixes[unit]);
}

std::string comma_number(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace flowscope::capture::tcpflow
