#pragma once
// Internal to flowscope_capture: other modules use its public headers.
// TCP stream reassembly with tcpflow 1.6.1's semantics: each direction of a connection is a byte
// stream whose offset 0 is the byte after the SYN (or, without a SYN, the first byte seen).
// Segments are placed by sequence number, relative to the next expected sequence number, with
// 32-bit signed deltas, so sequence wraparound and flows over 4 GiB need nothing special:
//   - retransmissions and overlaps are written again at their offset (last writer wins);
//   - out-of-order segments seek backwards (counted in out_of_order_count);
//   - missing segments leave a hole the sink zero-fills;
//   - data before the first byte of a flow that had no SYN is inserted at the front (the sink
//     shifts what it holds) and counted as out of order;
//   - a jump of more than max_seek bytes, or a new 4-tuple use after FIN/RST, starts a new flow
//     of the same 4-tuple (the sink names it with a connection counter);
//   - a flow ends on RST, on FIN once every byte up to the FIN was seen, on a timeout, or at the
//     end of input (close_all).
// The reassembler keeps no payload: it tells a TcpStreamSink where bytes go. Per-flow state is a
// few hundred bytes plus an interval set of seen ranges capped at kMaxSeenIntervals (beyond it
// the set is dropped, as tcpflow does after an insert, and the flow then ends at close_all).
//
// Not thread-safe: one reassembler per packet source, driven from one thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

namespace flowscope::capture {

// Microseconds since the Unix epoch (pcap resolution).
using TimeUs = std::int64_t;

// A pcap timestamp as recorded (seconds, microseconds). Kept apart from TimeUs because tcpflow
// prints and names files from the two fields as they are, even when a capture holds a
// microsecond field of a million or more.
struct PcapTime {
  std::int64_t sec = 0;
  std::int64_t usec = 0;
};

// One direction of a TCP connection: addresses in network byte order (IPv4 in the first 4).
struct TcpFlowKey {
  std::array<std::uint8_t, 16> src{};
  std::array<std::uint8_t, 16> dst{};
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint8_t family = 0;  // 4 or 6

  bool operator==(const TcpFlowKey&) const = default;
};

struct TcpFlowKeyHash {
  std::size_t operator()(const TcpFlowKey& k) const noexcept;
};

// Ranges of stream offsets seen, merged; tcpflow's recon_set.
class SeenSet {
 public:
  void add(std::uint64_t begin, std::uint64_t end);  // [begin, end)
  std::uint64_t size() const { return total_; }
  std::size_t intervals() const { return ranges_.size(); }

 private:
  std::map<std::uint64_t, std::uint64_t> ranges_;  // begin -> end, disjoint, not adjacent
  std::uint64_t total_ = 0;
};

enum class TcpDirection : std::uint8_t { Unknown, ClientToServer, ServerToClient };

// What the reassembler knows about one direction. The sink may keep its own state through
// `sink_slot` (an index it assigns in on_open).
struct TcpStream {
  TcpFlowKey key;
  std::int32_t vlan = -1;  // the 802.1Q tag control word, -1 when untagged
  bool has_mac = false;
  std::array<std::uint8_t, 6> mac_src{};
  std::array<std::uint8_t, 6> mac_dst{};
  std::uint64_t id = 0;  // creation order over the run (tcpflow's connection number)
  TimeUs tstart = 0;
  TimeUs tlast = 0;
  PcapTime tstart_raw;
  PcapTime tlast_raw;
  std::uint64_t packets = 0;
  std::uint64_t len = 0;     // sum of wire lengths of its frames
  std::uint64_t caplen = 0;  // sum of captured lengths
  std::uint32_t isn = 0;
  std::uint32_t nsn = 0;  // next expected sequence number
  std::uint32_t syn_count = 0;
  std::uint32_t fin_count = 0;
  std::uint32_t fin_size = 0;
  std::uint64_t pos = 0;        // stream offset after the last stored segment
  std::uint64_t last_byte = 0;  // highest offset reached (the DFXML filesize)
  std::uint64_t out_of_order_count = 0;
  std::uint64_t violations = 0;
  TcpDirection dir = TcpDirection::Unknown;
  std::unique_ptr<SeenSet> seen = std::make_unique<SeenSet>();
  std::uint64_t lru_tick = 0;  // last packet that was not a FIN (open-file LRU order)
  std::size_t sink_slot = 0;

  std::uint32_t seen_bytes() const { return seen ? static_cast<std::uint32_t>(seen->size()) : 0; }
};

// A packet as the reassembler needs it; the TCP segment bytes are borrowed for the call.
struct TcpPacket {
  TimeUs ts = 0;
  PcapTime ts_raw;
  std::uint32_t wire_length = 0;  // the frame's length on the wire
  std::uint32_t cap_length = 0;   // the frame's captured length
  TcpFlowKey key;
  std::int32_t vlan = -1;
  bool has_mac = false;
  std::array<std::uint8_t, 6> mac_src{};
  std::array<std::uint8_t, 6> mac_dst{};
  // The TCP segment as the IP length declares it (header + data) and how much was captured.
  std::span<const std::uint8_t> segment;  // captured bytes of the segment
  std::uint32_t segment_length = 0;       // declared length (from the IP header)
};

// Where reassembled bytes go. Called synchronously from process().
class TcpStreamSink {
 public:
  virtual ~TcpStreamSink() = default;
  virtual void on_open(TcpStream& s) = 0;
  // Store `data` (captured, possibly shorter than `length`) at stream offset `offset`; `length`
  // is the segment's payload length (pos advances by it).
  virtual void on_store(TcpStream& s, std::uint64_t offset, std::span<const std::uint8_t> data,
                        std::uint32_t length, TimeUs ts) = 0;
  // Move everything stored up by `bytes` (data arrived before offset 0 of a flow without SYN).
  virtual void on_insert_front(TcpStream& s, std::uint64_t bytes) = 0;
  // Console mode (-c/-C): the payload as it arrives, no reassembly.
  virtual void on_print(TcpStream& s, std::span<const std::uint8_t> data) = 0;
  virtual void on_close(TcpStream& s) = 0;
  // A segment with data for a 4-tuple that recently closed: whether it repeats what was written
  // (then it is dropped instead of starting a new flow). `saved_slot` is what on_close returned
  // through save_slot().
  virtual bool saved_data_matches(std::size_t saved_slot, std::uint32_t offset,
                                  std::span<const std::uint8_t> data) = 0;
  // The slot to remember for a closed stream (see saved_data_matches); called after on_close.
  virtual std::size_t save_slot(const TcpStream& s) = 0;
  virtual void forget_saved(std::size_t saved_slot) = 0;
};

struct TcpReassemblerOptions {
  bool console = false;               // -c / -C: print instead of store
  bool store = true;                  // -FX clears it
  bool purge_on_fin = true;           // -P clears it (flows stay in the table)
  std::uint32_t max_seek = 16777216;  // -m
  std::uint32_t tcp_timeout_s = 0;    // -S tcp_timeout=N (0: none)
  std::size_t max_saved_flows = 100;  // closed 4-tuples remembered for late retransmissions
};

enum class TcpVerdict : std::uint8_t { Processed, NotProcessed };

struct TcpReassemblerStats {
  std::uint64_t packets = 0;       // TCP packets that reached a flow (tcpflow's total_packets)
  std::uint64_t flows = 0;         // streams created
  std::uint64_t max_open = 0;      // most streams in the table at once
  std::uint64_t seen_dropped = 0;  // streams whose seen set overflowed kMaxSeenIntervals
};

class TcpReassembler {
 public:
  static constexpr std::size_t kMaxSeenIntervals = 4096;

  TcpReassembler(TcpReassemblerOptions options, TcpStreamSink& sink);
  TcpReassembler(const TcpReassembler&) = delete;
  TcpReassembler& operator=(const TcpReassembler&) = delete;

  // Whether packets of unknown 4-tuples may start flows (false while reading -R files).
  void set_start_new_connections(bool on) { start_new_ = on; }

  // One TCP segment. NotProcessed: the packet was not used (tcpflow writes those with -w).
  TcpVerdict process(const TcpPacket& packet);

  // Ends every stream (end of input, or a signal): on_close for each.
  void close_all();

  std::size_t open_streams() const { return flows_.size(); }
  const TcpReassemblerStats& stats() const { return stats_; }

 private:
  TcpVerdict process_segment(const TcpPacket& packet);
  void remove(const TcpFlowKey& key);
  void store(TcpStream& s, std::span<const std::uint8_t> data, std::uint32_t length,
             std::int32_t delta, TimeUs ts);
  void expire(std::int64_t now_s);
  void save(const TcpStream& s);

  struct Saved {
    std::uint32_t isn = 0;
    std::size_t slot = 0;
  };

  TcpReassemblerOptions options_;
  TcpStreamSink& sink_;
  bool start_new_ = true;
  std::unordered_map<TcpFlowKey, std::unique_ptr<TcpStream>, TcpFlowKeyHash> flows_;
  std::unordered_map<TcpFlowKey, Saved, TcpFlowKeyHash> saved_;
  std::deque<TcpFlowKey> saved_order_;
  std::uint64_t tick_ = 0;
  std::int64_t last_expire_s_ = -1;
  TcpReassemblerStats stats_;
};

}  // namespace flowscope::capture
