#pragma once
// Internal to flowscope_tcpflow: other modules use its public headers.
// tcpflow's `-e netviz` scanner (also run by -a / -e all): a one-page picture of the capture,
// written as DIR/report.pdf when the run ends. NetvizData gathers what tcpflow 1.6.1's
// one_page_report gathers from every packet that reaches its IP layer (the same counts, so the
// page's numbers agree): packets and wire bytes, bytes per Ethernet type (the header's
// "Transports"), bytes per source and destination address in tcpflow's bounded radix tree
// (IpTree: at most netviz_histogram_size nodes, the lightest leaves merged into their parent
// prefix, exactly as tcpflow prunes), bytes per TCP source and destination port, and bytes over
// time in the finest of tcpflow's eight time scales that holds the capture, by port.
// render_netviz_pdf (netviz_render.cpp) draws the page with cairo: header, the stacked time
// histogram with its cumulative line, the port legend, the top-10 address and port bars with
// cumulative lines and top-3 lists.
//
// Not thread-safe; one per run, fed by the runner's thread.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "capture/tcp_reassembler.h"
#include "core/result.h"

namespace flowscope::capture::tcpflow {

// tcpflow's iptree<uint64_t,16>: a binary trie over address bits whose node count is capped;
// when over the cap, the node whose children are all leaves and whose subtree is lightest (the
// deeper on a tie) absorbs its children. A 4-entry cache of recently added addresses is part of
// the behaviour (it compares only the address's own length), so it is kept.
class IpTree {
 public:
  explicit IpTree(std::size_t max_nodes);
  ~IpTree();
  IpTree(const IpTree&) = delete;
  IpTree& operator=(const IpTree&) = delete;

  void add(const std::uint8_t* addr, std::size_t len, std::uint64_t value);
  std::uint64_t sum() const;

  struct Entry {
    std::array<std::uint8_t, 16> addr{};
    int depth = 0;  // prefix length in bits
    std::uint64_t count = 0;
    // "10.0.0.1", "2001:db8::1", with "/depth" when a prefix (as tcpflow prints them).
    std::string text() const;
  };
  // Every node with a count, in tcpflow's order (pre-order, 0 branch first).
  std::vector<Entry> histogram() const;

 private:
  struct Node;
  struct Best {
    Node* node = nullptr;
    int depth = -1;
  };
  static bool is_leaf(const Node& n);
  static std::uint64_t subtree_sum(const Node& n);
  Best best_to_prune(Node& n, int depth) const;
  void prune(Node& n);
  void collect(const Node& n, int depth, std::array<std::uint8_t, 16> addr,
               std::vector<Entry>& out) const;

  std::unique_ptr<Node> root_;
  std::size_t nodes_ = 0;
  std::size_t max_nodes_;
  struct CacheEntry {
    std::array<std::uint8_t, 16> addr{};
    Node* node = nullptr;
  };
  std::array<CacheEntry, 4> cache_{};
  std::size_t cache_next_ = 0;
};

// Bytes over time, by port: one map per time scale (a minute in 0.1 s buckets … half a century
// in 3-month buckets); the finest scale the capture fits in is the one drawn.
class TimeHistogram {
 public:
  TimeHistogram();
  struct Bucket {
    std::map<std::uint16_t, std::uint64_t> by_port;
    std::uint64_t portless = 0;  // non-TCP packets
    std::uint64_t sum() const;
  };
  struct Scale {
    std::uint64_t span_usec = 0;
    std::uint64_t bucket_count = 0;
    std::uint64_t bucket_width = 0;
    std::uint64_t base_time = 0;
    std::uint64_t inserted = 0;
    std::map<std::uint32_t, Bucket> buckets;
    // false when the time falls outside this scale
    bool insert(std::uint64_t usec, std::uint16_t port, std::uint64_t count, bool portless);
  };
  void insert(PcapTime ts, std::uint16_t port, std::uint64_t count, bool portless);
  // Merges `factor` neighbouring buckets (tcpflow keeps at most 100 bars on the page).
  void condense(std::uint64_t factor);
  const Scale& best() const { return scales_.at(best_); }
  std::size_t non_sparse_size() const;
  std::int64_t start_sec() const { return earliest_.sec; }
  std::int64_t end_sec() const { return latest_.sec; }

 private:
  std::vector<Scale> scales_;
  std::size_t best_ = 0;
  PcapTime earliest_{0, 0};
  PcapTime latest_{0, 0};
};

struct PortCount {
  std::uint16_t port = 0;
  std::uint64_t count = 0;
};

class NetvizData {
 public:
  explicit NetvizData(std::size_t max_histogram_size = 1000);

  // One packet as tcpflow's datalink handlers pass it on: `ts` with -S tdelta applied,
  // `ether_type` the frame's outer Ethernet type (0 for other link types), `ip` the bytes
  // from the IP header to the end of the capture.
  void ingest(PcapTime ts, std::uint32_t wire_length, std::uint16_t ether_type,
              std::span<const std::uint8_t> ip);

  std::uint64_t packets() const { return packets_; }
  std::uint64_t bytes() const { return bytes_; }
  PcapTime earliest() const { return earliest_; }
  PcapTime latest() const { return latest_; }
  const std::map<std::uint16_t, std::uint64_t>& transports() const { return transports_; }
  // Top 10, heaviest first (ties: the larger address first, as tcpflow sorts).
  std::vector<IpTree::Entry> top_addresses(bool source) const;
  std::uint64_t address_total(bool source) const;
  // Top 10, heaviest first (ties: the lower port first).
  std::vector<PortCount> top_ports(bool source) const;
  std::uint64_t port_total(bool source) const { return source ? src_port_total_ : dst_port_total_; }
  TimeHistogram& time_histogram() { return time_; }
  const std::map<std::uint16_t, bool>& ports_in_time_histogram() const { return time_ports_; }

  // The header's text lines after "Generated:" as tcpflow writes them.
  std::string date_range_line() const;
  std::string packets_line() const;
  std::string transports_line() const;

 private:
  std::uint64_t packets_ = 0;
  std::uint64_t bytes_ = 0;
  PcapTime earliest_{0, 0};
  PcapTime latest_{0, 0};
  std::map<std::uint16_t, std::uint64_t> transports_;
  IpTree src_tree_;
  IpTree dst_tree_;
  std::map<std::uint16_t, std::uint64_t> src_ports_;
  std::map<std::uint16_t, std::uint64_t> dst_ports_;
  std::uint64_t src_port_total_ = 0;
  std::uint64_t dst_port_total_ = 0;
  std::map<std::uint16_t, bool> time_ports_;
  TimeHistogram time_;
};

// "66.33 KB", "742 B": tcpflow's pretty_byte_total (powers of 1000, two decimals above bytes).
std::string pretty_byte_total(std::uint64_t bytes);
// "1,234,567".
std::string comma_number(std::uint64_t n);

// Draws the page into `path` (PDF, US Letter as tcpflow: 611 x 792 points). `input` is the
// header's "Input:" (the first -r file, "+ N more", or the device).
Result<void> render_netviz_pdf(NetvizData& data, const std::string& path, const std::string& input);

}  // namespace flowscope::capture::tcpflow
