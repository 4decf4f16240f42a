#pragma once
// FlowMeter: the probe's flow table. Captured frames go in (decoded by core/flow_packet.h), and
// two-way sessions come out as SessionBatch rows, because a probe sees both directions of a
// connection: no stitching is needed (docs/capture.md).
//
// - Key: the 5-tuple normalized so both directions meet (lower endpoint first), plus the
//   outermost VLAN id. Tunnels are opened; the flow is the innermost IP packet's.
// - A session ends on the idle timeout (no packet for `idle_timeout`), the active timeout (open
//   longer than `active_timeout`; the table keeps the entry and the next record continues it
//   with the same client), a TCP RST, `fin_timeout` after the last packet once both sides sent
//   FIN (the closing ACKs, even of a simultaneous close, stay in the session, as softflowd's
//   tcp.fin timeout keeps them), a new SYN on a finished connection, eviction when `max_flows` are
//   open (the least recently seen goes, counted), or flush(). IPFIX IE 136 end reasons say which.
// - Client: the side that sent a SYN without ACK; otherwise core/client_rule.h (the stitcher's
//   rule, F4).
// - Later IP fragments take the ports of their first fragment through a small table keyed by
//   (addresses, protocol, fragment id); unmatched ones meter with ports 0 and are counted.
// - TCP health (trafMon's key performance values): handshake RTT on the client and server side,
//   retransmitted and out-of-order segments per side, zero-window events, outcome.
// - FTP: PORT/EPRT commands and 227/229 replies on port 21 announce a data connection; the
//   session that opens it gets the control session's id in ftp_ctrl_id.
// - Application: nDPI's label from a flow's first packets (capture/app_classifier.h).
//
// Hot path: no allocation per packet once the table has grown (nDPI, when on, allocates its
// state once per new session and frees it when the label is known). Entries live in a slab found
// through an open-addressing index (linear probing, backward-shift deletion); two intrusive
// lists order them by last packet (idle expiry, eviction) and by start (active expiry), so
// expiry is O(1) per packet. Not thread-safe: one meter per thread; shard packets by the
// normalized key's hash for more (docs/conventions.md "Threads").

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "capture/app_classifier.h"
#include "core/client_rule.h"
#include "core/flow_packet.h"
#include "core/ip_address.h"
#include "core/packet_parser.h"
#include "core/record_batch.h"
#include "core/service_ports.h"

namespace flowscope::capture {

// Nanoseconds since the Unix epoch: capture timestamps keep their precision (RTTs in µs).
using TimeNs = std::int64_t;
inline constexpr TimeNs kNsPerSecond = 1'000'000'000;

// What a session's byte counters count: the IP packets (layer 3, as NetFlow and softflowd do)
// or whole captured frames as on the wire (as tshark's conversation statistics do).
enum class ByteCount : std::uint8_t { Layer3, Frame };

struct MeterConfig {
  TimeNs active_timeout = 1800 * kNsPerSecond;
  TimeNs idle_timeout = 60 * kNsPerSecond;
  // How long a TCP session lingers after its last packet once both sides sent FIN: the last
  // ACKs (and retransmitted FINs) join it instead of starting a one-packet session.
  TimeNs fin_timeout = 2 * kNsPerSecond;
  std::size_t max_flows = std::size_t{1} << 20;  // >= 1
  std::uint64_t first_session_id = 1;
  ByteCount bytes = ByteCount::Layer3;
  ServicePorts services = ServicePorts::well_known();
  // nDPI application labels (the `application` field) when built with nDPI.
  bool application_labels = true;
};

// IPFIX flowEndReason (RFC 7012 IE 136), which the end_reason field carries.
enum class EndReason : std::uint8_t {
  Idle = 1,
  Active = 2,
  EndOfFlow = 3,
  Forced = 4,
  LackOfResources = 5,
};

// TcpOutcome field values (core/fields.def).
enum class TcpOutcome : std::uint8_t { Unknown = 0, Established, Refused, Reset, TimedOut };

struct MeterStats {
  std::uint64_t packets = 0;        // frames offered
  std::uint64_t frame_bytes = 0;    // their wire lengths
  std::uint64_t metered = 0;        // frames that counted in a session
  std::uint64_t metered_bytes = 0;  // what they added to the sessions' byte counters
  std::uint64_t not_ip = 0;         // ARP, LLDP, ...: skipped, not malformed
  std::array<std::uint64_t, kPacketIssueCount> malformed{};  // by PacketIssue
  std::uint64_t snapped = 0;   // metered although cut short by the snap length
  std::uint64_t tunneled = 0;  // metered on an inner packet of a tunnel
  std::uint64_t fragments = 0;
  std::uint64_t fragments_unmatched = 0;  // later fragments whose first fragment was not seen
  std::uint64_t time_went_back = 0;       // packets older than the newest seen (merged inputs)
  std::uint64_t sessions = 0;
  std::uint64_t closed_idle = 0;
  std::uint64_t closed_active = 0;
  std::uint64_t closed_fin = 0;  // fin_timeout after both FINs
  std::uint64_t closed_rst = 0;
  std::uint64_t closed_reuse = 0;  // a new SYN on a finished connection
  std::uint64_t evicted = 0;       // max_flows reached
  std::uint64_t closed_flush = 0;
  std::uint64_t ftp_data_tagged = 0;
  std::uint64_t malformed_total() const;
};

class FlowMeter {
 public:
  explicit FlowMeter(MeterConfig config);
  ~FlowMeter();
  FlowMeter(const FlowMeter&) = delete;
  FlowMeter& operator=(const FlowMeter&) = delete;

  // Meters one captured frame seen at `ts`; sessions that end meanwhile are appended to `out`.
  // `wire_length` is the frame's length on the wire (the capture may hold less).
  void add(LinkType link, std::span<const std::byte> frame, std::size_t wire_length, TimeNs ts,
           SessionBatch& out);
  // Moves the clock to `now` without a packet (a live capture's quiet moments) and ends the
  // sessions whose timeouts passed.
  void advance(TimeNs now, SessionBatch& out);
  // Ends every open session (end of input, shutdown).
  void flush(SessionBatch& out);
  // New timeouts and table bound from now on (a scheduled probe configuration); open sessions
  // keep their counters. A lower max_flows evicts as new sessions arrive.
  void reconfigure(TimeNs idle_timeout, TimeNs active_timeout, std::size_t max_flows);

  const MeterStats& stats() const { return stats_; }
  std::size_t open_flows() const { return open_; }
  // Whether sessions get nDPI application labels (configured, and built with nDPI).
  bool labels_applications() const { return classifier_ != nullptr; }

 private:
  struct Key;
  struct Side;
  struct Entry;
  struct FragmentSlot;
  struct Expectation;

  std::uint32_t find(const Key& key, std::uint32_t hash) const;
  std::uint32_t create(const Key& key, std::uint32_t hash, TimeNs ts, SessionBatch& out);
  void remove(std::uint32_t idx);
  void end(std::uint32_t idx, EndReason reason, SessionBatch& out);
  void emit(Entry& e, EndReason reason, SessionBatch& out);
  void expire(TimeNs now, SessionBatch& out);
  void grow_index();
  // The intrusive lists that order entries: an entry's links in one of them, and a list's ends
  // with the links it uses (no allocation: the links live in the entries).
  struct Links {
    std::uint32_t prev;
    std::uint32_t next;
  };
  struct List {
    Links Entry::*links;
    std::uint32_t head;
    std::uint32_t tail;
  };
  void unlink(List& list, std::uint32_t idx);
  void push_front(List& list, std::uint32_t idx);
  void push_back(List& list, std::uint32_t idx);
  void track_tcp(Entry& e, int dir, const FlowPacket& p, TimeNs ts);
  void parse_ftp(Entry& e, int dir, const FlowPacket& p, TimeNs ts);
  bool resolve_fragment(FlowPacket& p);
  int client_side(const Entry& e) const;

  MeterConfig config_;
  MeterStats stats_;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint64_t> index_;  // hash << 32 | (entry + 1); 0 = empty
  std::size_t open_ = 0;
  List lru_;  // by last packet, most recent first (idle expiry, eviction)
  List age_;  // by start, oldest first (active expiry)
  List fin_;  // finished TCP sessions by last packet, oldest first (fin_timeout)
  TimeNs now_ = 0;
  std::uint64_t next_id_;
  std::vector<FragmentSlot> fragments_;
  std::vector<Expectation> expectations_;
  std::size_t next_expectation_ = 0;
  FlowPacket packet_;
  std::unique_ptr<AppClassifier> classifier_;
};

}  // namespace flowscope::capture
