#include "capture/flow_meter.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <string_view>

#include "core/tcp_flags.h"

namespace flowscope::capture {

using namespace tcp_flags;

namespace {

constexpr std::uint32_t kNone = 0xFFFFFFFFu;
constexpr std::size_t kFragmentSlots = 4096;  // direct-mapped; a collision forgets the older
constexpr std::size_t kExpectations = 64;     // FTP data connections announced, ring
constexpr TimeNs kExpectationLifetime = 120 * kNsPerSecond;
constexpr TimeNs kMinReorderWindow = 3'000'000;  // 3 ms, as Wireshark's tcp analysis

inline std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h ^= w;
  h *= 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 31);
}

inline std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline std::int64_t to_ms_floor(TimeNs ns) {
  return ns >= 0 ? ns / 1'000'000 : -((-ns + 999'999) / 1'000'000);
}

bool is_echo_request(std::uint8_t proto, std::uint16_t type_code) {
  const unsigned type = type_code >> 8;
  return (proto == 1 && type == 8) || (proto == 58 && type == 128);
}
bool is_echo(std::uint8_t proto, std::uint16_t type_code) {
  const unsigned type = type_code >> 8;
  return (proto == 1 && (type == 8 || type == 0)) || (proto == 58 && (type == 128 || type == 129));
}

// Sequence-space comparison (RFC 9293 §3.4: modulo 2^32).
inline bool seq_before(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0;
}

}  // namespace

struct FlowMeter::Key {
  IpAddress a;  // the lower endpoint (address, then port)
  IpAddress b;
  std::uint16_t port_a = 0;
  std::uint16_t port_b = 0;
  std::uint16_t vlan = 0;
  std::uint8_t proto = 0;

  bool operator==(const Key& o) const {
    // Word compares rather than memcmp: this runs for every packet.
    const std::uint8_t* x = a.bytes().data();
    const std::uint8_t* y = o.a.bytes().data();
    const std::uint8_t* u = b.bytes().data();
    const std::uint8_t* v = o.b.bytes().data();
    return ((load64(x) ^ load64(y)) | (load64(x + 8) ^ load64(y + 8)) | (load64(u) ^ load64(v)) |
            (load64(u + 8) ^ load64(v + 8))) == 0 &&
           port_a == o.port_a && port_b == o.port_b && vlan == o.vlan && proto == o.proto;
  }
  std::uint32_t hash() const {
    std::uint64_t h = 0x243F6A8885A308D3ull;
    h = mix(h, load64(a.bytes().data()));
    h = mix(h, load64(a.bytes().data() + 8));
    h = mix(h, load64(b.bytes().data()));
    h = mix(h, load64(b.bytes().data() + 8));
    h = mix(h, std::uint64_t{port_a} | std::uint64_t{port_b} << 16 | std::uint64_t{vlan} << 32 |
                   std::uint64_t{proto} << 48);
    const auto h32 = static_cast<std::uint32_t>(h ^ (h >> 32));
    return h32 == 0 ? 1 : h32;
  }
};

// What one endpoint of the key sent.
struct FlowMeter::Side {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  TimeNs first = 0;
  std::uint8_t flags = 0;
  bool echo_request = false;
  // TCP health
  bool seq_known = false;
  bool zero_window = false;
  bool fin = false;
  std::uint32_t max_end = 0;  // highest sequence number + length seen
  TimeNs max_end_time = 0;
  TimeNs syn_time = 0;  // the last SYN (or SYN-ACK) this side sent
  std::uint32_t retrans = 0;
  std::uint32_t ooo = 0;
  std::uint32_t zero_windows = 0;
};

struct FlowMeter::Entry {
  Key key;
  std::uint32_t hash = 0;
  bool used = false;
  Side side[2];
  std::uint64_t session_id = 0;
  std::uint64_t ftp_ctrl = 0;
  TimeNs first = 0;
  TimeNs last = 0;
  Links lru{kNone, kNone};
  Links age{kNone, kNone};
  Links fin{kNone, kNone};  // while finished
  std::uint8_t tos = 0;
  std::uint8_t first_side = 0;
  std::int8_t client = -1;  // fixed by a bare SYN or by an earlier record of a continued flow
  // TCP connection progress
  bool syn_seen = false;
  bool synack_seen = false;
  bool established = false;
  bool refused = false;
  bool reset = false;
  bool finished = false;  // both sides sent FIN
  TimeNs synack_time = 0;
  std::int64_t cln_rtt_us = -1;
  std::int64_t srv_rtt_us = -1;
  // Application label (nDPI): its state while undecided, then the label.
  AppClassifier::Flow* dpi = nullptr;
  AppClassifier::Label app;
  bool app_done = false;
};

struct FlowMeter::FragmentSlot {
  IpAddress src;
  IpAddress dst;
  std::uint32_t id = 0;
  std::uint8_t proto = 0;
  bool used = false;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
};

struct FlowMeter::Expectation {
  IpAddress addr;
  std::uint16_t port = 0;
  std::uint64_t control_id = 0;
  TimeNs until = 0;
};

std::uint64_t MeterStats::malformed_total() const {
  std::uint64_t n = 0;
  for (std::uint64_t m : malformed) n += m;
  return n;
}

FlowMeter::FlowMeter(MeterConfig config)
    : config_(config),
      lru_{&Entry::lru, kNone, kNone},
      age_{&Entry::age, kNone, kNone},
      fin_{&Entry::fin, kNone, kNone},
      next_id_(config_.first_session_id),
      fragments_(kFragmentSlots),
      expectations_(kExpectations) {
  config_.max_flows = std::max<std::size_t>(1, config_.max_flows);
  const std::size_t initial = std::min<std::size_t>(config_.max_flows, 1024);
  entries_.reserve(initial);
  index_.assign(std::max<std::size_t>(16, std::bit_ceil(initial * 2)), 0);
  if (config_.application_labels) classifier_ = AppClassifier::create();
}

FlowMeter::~FlowMeter() {
  if (!classifier_) return;
  for (Entry& e : entries_) classifier_->release(e.dpi);
}

// ---- the table --------------------------------------------------------------------------------

std::uint32_t FlowMeter::find(const Key& key, std::uint32_t hash) const {
  const std::size_t mask = index_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const std::uint64_t v = index_[slot];
    if (v == 0) return kNone;
    if ((v >> 32) == hash) {
      const auto idx = static_cast<std::uint32_t>(v) - 1;
      if (entries_[idx].key == key) return idx;
    }
  }
}

void FlowMeter::grow_index() {
  std::vector<std::uint64_t> old(index_.size() * 2, 0);
  old.swap(index_);
  const std::size_t mask = index_.size() - 1;
  for (std::uint64_t v : old) {
    if (v == 0) continue;
    std::size_t slot = (v >> 32) & mask;
    while (index_[slot] != 0) slot = (slot + 1) & mask;
    index_[slot] = v;
  }
}

std::uint32_t FlowMeter::create(const Key& key, std::uint32_t hash, TimeNs ts, SessionBatch& out) {
  while (open_ >= config_.max_flows) {  // more than one after reconfigure() lowered the bound
    ++stats_.evicted;
    end(lru_.tail, EndReason::LackOfResources, out);
  }
  std::uint32_t idx;
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
    entries_[idx] = Entry{};
  } else {
    idx = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  if ((open_ + 1) * 2 > index_.size()) grow_index();
  Entry& e = entries_[idx];
  e.key = key;
  e.hash = hash;
  e.used = true;
  e.first = e.last = ts;
  e.session_id = next_id_++;
  const std::size_t mask = index_.size() - 1;
  std::size_t slot = hash & mask;
  while (index_[slot] != 0) slot = (slot + 1) & mask;
  index_[slot] = std::uint64_t{hash} << 32 | (idx + 1);
  ++open_;
  push_front(lru_, idx);
  push_back(age_, idx);
  return idx;
}

void FlowMeter::remove(std::uint32_t idx) {
  Entry& e = entries_[idx];
  const std::size_t mask = index_.size() - 1;
  std::size_t slot = e.hash & mask;
  while (static_cast<std::uint32_t>(index_[slot]) != idx + 1) slot = (slot + 1) & mask;
  // Backward-shift deletion: move later members of the probe run into the hole.
  std::size_t hole = slot;
  for (std::size_t next = (hole + 1) & mask; index_[next] != 0; next = (next + 1) & mask) {
    const std::size_t home = (index_[next] >> 32) & mask;
    // The entry at `next` may move to `hole` when its home is not in (hole, next].
    const bool between =
        hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
    if (!between) {
      index_[hole] = index_[next];
      hole = next;
    }
  }
  index_[hole] = 0;
  if (classifier_) classifier_->release(e.dpi);
  unlink(lru_, idx);
  unlink(age_, idx);
  if (e.finished) unlink(fin_, idx);
  e.used = false;
  free_.push_back(idx);
  --open_;
}

void FlowMeter::unlink(List& list, std::uint32_t idx) {
  Links& l = entries_[idx].*list.links;
  if (l.prev != kNone)
    (entries_[l.prev].*list.links).next = l.next;
  else
    list.head = l.next;
  if (l.next != kNone)
    (entries_[l.next].*list.links).prev = l.prev;
  else
    list.tail = l.prev;
  l.prev = l.next = kNone;
}

void FlowMeter::push_front(List& list, std::uint32_t idx) {
  Links& l = entries_[idx].*list.links;
  l.prev = kNone;
  l.next = list.head;
  if (list.head != kNone) (entries_[list.head].*list.links).prev = idx;
  list.head = idx;
  if (list.tail == kNone) list.tail = idx;
}

void FlowMeter::push_back(List& list, std::uint32_t idx) {
  Links& l = entries_[idx].*list.links;
  l.next = kNone;
  l.prev = list.tail;
  if (list.tail != kNone) (entries_[list.tail].*list.links).next = idx;
  list.tail = idx;
  if (list.head == kNone) list.head = idx;
}

// ---- ending sessions --------------------------------------------------------------------------

int FlowMeter::client_side(const Entry& e) const {
  if (e.client >= 0) return e.client;
  SideView views[2];
  for (int i = 0; i < 2; ++i) {
    const Side& s = e.side[i];
    views[i].seen = s.packets != 0;
    views[i].port = i == 0 ? e.key.port_a : e.key.port_b;
    views[i].tcp_flags = s.flags;
    views[i].first_ms = s.packets != 0 ? std::max<std::int64_t>(1, to_ms_floor(s.first)) : 0;
    views[i].echo_request = s.echo_request;
  }
  return decide_client(e.key.proto, views, config_.services, e.first_side).client;
}

namespace {

// A measurement of both sides: the client's into `ClientField`, the server's into its twin
// (core/fields.def relations).
template <FieldId ClientField>
void set_sides(SessionBatch& out, std::size_t row, field_value_t<ClientField> client,
               field_value_t<ClientField> server) {
  static_assert(twin(ClientField).has_value() && side_of(ClientField) == 0);
  out.set<ClientField>(row, client);
  out.set<*twin(ClientField)>(row, server);
}

}  // namespace

void FlowMeter::emit(Entry& e, EndReason reason, SessionBatch& out) {
  if (e.side[0].packets == 0 && e.side[1].packets == 0) return;  // a continued flow went quiet
  const int c = client_side(e);
  const int s = 1 - c;
  const Side& cs = e.side[c];
  const Side& ss = e.side[s];
  const std::size_t row = out.add_row();
  out.set<FieldId::SessionId>(row, e.session_id);
  set_sides<FieldId::ClnAddr>(out, row, c == 0 ? e.key.a : e.key.b, c == 0 ? e.key.b : e.key.a);
  const std::uint8_t proto = e.key.proto;
  std::uint16_t cln_port = c == 0 ? e.key.port_a : e.key.port_b;
  std::uint16_t srv_port = c == 0 ? e.key.port_b : e.key.port_a;
  if ((proto == 1 || proto == 58) && cln_port == 0 && srv_port == 0) {
    // Echo sessions are keyed without type/code; the server port names the request.
    srv_port = proto == 1 ? 0x0800 : 0x8000;
  }
  set_sides<FieldId::ClnPort>(out, row, cln_port, srv_port);
  out.set<FieldId::Proto>(row, proto);
  out.set<FieldId::Tos>(row, e.tos);
  set_sides<FieldId::ClnPackets>(out, row, cs.packets, ss.packets);
  set_sides<FieldId::ClnBytes>(out, row, cs.bytes, ss.bytes);
  out.set<FieldId::StartTime>(row, to_ms_floor(e.first));
  out.set<FieldId::EndTime>(row, to_ms_floor(e.last));
  out.set<FieldId::Sides>(row, static_cast<std::uint8_t>((cs.packets != 0) + (ss.packets != 0)));
  out.set<FieldId::Version>(row, 0);
  out.set<FieldId::EndReason>(row, static_cast<std::uint8_t>(reason));
  if (e.key.vlan != 0) out.set<FieldId::InVlan>(row, e.key.vlan);
  if (e.ftp_ctrl != 0) out.set<FieldId::FtpControl>(row, e.ftp_ctrl);
  if (classifier_) {
    if (!e.app_done) {
      classifier_->give_up(e.dpi, e.app);
      e.app_done = true;  // a continued record keeps the label
    }
    const std::string_view name = classifier_->name(e.app);
    if (!name.empty()) out.set<FieldId::Application>(row, name);
  }
  if (proto == 6) {
    out.set<FieldId::TcpFlags>(row, static_cast<std::uint8_t>(cs.flags | ss.flags));
    set_sides<FieldId::ClnTcpFlags>(out, row, cs.flags, ss.flags);
    if (e.cln_rtt_us >= 0) out.set<FieldId::ClnRtt>(row, static_cast<std::uint32_t>(e.cln_rtt_us));
    if (e.srv_rtt_us >= 0) out.set<FieldId::SrvRtt>(row, static_cast<std::uint32_t>(e.srv_rtt_us));
    set_sides<FieldId::ClnRetrans>(out, row, cs.retrans, ss.retrans);
    set_sides<FieldId::ClnOutOfOrder>(out, row, cs.ooo, ss.ooo);
    out.set<FieldId::ZeroWindows>(row, cs.zero_windows + ss.zero_windows);
    TcpOutcome outcome = TcpOutcome::Unknown;
    if (e.refused)
      outcome = TcpOutcome::Refused;
    else if (e.reset)
      outcome = TcpOutcome::Reset;
    else if (e.established)
      outcome = TcpOutcome::Established;
    else if (e.syn_seen && (reason == EndReason::Idle || reason == EndReason::Forced ||
                            reason == EndReason::LackOfResources)) {
      outcome = TcpOutcome::TimedOut;  // the handshake never completed
    }
    out.set<FieldId::TcpOutcome>(row, static_cast<std::uint8_t>(outcome));
  }
  ++stats_.sessions;
}

void FlowMeter::end(std::uint32_t idx, EndReason reason, SessionBatch& out) {
  emit(entries_[idx], reason, out);
  remove(idx);
}

void FlowMeter::expire(TimeNs now, SessionBatch& out) {
  while (fin_.head != kNone && entries_[fin_.head].last + config_.fin_timeout <= now) {
    ++stats_.closed_fin;
    end(fin_.head, EndReason::EndOfFlow, out);
  }
  while (lru_.tail != kNone && entries_[lru_.tail].last + config_.idle_timeout <= now) {
    ++stats_.closed_idle;
    end(lru_.tail, EndReason::Idle, out);
  }
  while (age_.head != kNone && entries_[age_.head].first + config_.active_timeout <= now) {
    const std::uint32_t idx = age_.head;
    Entry& e = entries_[idx];
    ++stats_.closed_active;
    if (e.finished) {  // closed already: nothing goes on
      end(idx, EndReason::Active, out);
      continue;
    }
    emit(e, EndReason::Active, out);
    // The connection goes on: a new record with the same client, counters from zero.
    e.client = static_cast<std::int8_t>(client_side(e));
    for (Side& s : e.side) {
      s.packets = s.bytes = 0;
      s.first = 0;
      s.flags = 0;
      s.retrans = s.ooo = s.zero_windows = 0;
    }
    e.first = e.last = now;
    e.session_id = next_id_++;
    e.cln_rtt_us = e.srv_rtt_us = -1;
    unlink(age_, idx);
    push_back(age_, idx);
  }
}

void FlowMeter::advance(TimeNs now, SessionBatch& out) {
  if (now > now_) now_ = now;
  expire(now_, out);
}

void FlowMeter::reconfigure(TimeNs idle_timeout, TimeNs active_timeout, std::size_t max_flows) {
  config_.idle_timeout = idle_timeout;
  config_.active_timeout = active_timeout;
  config_.max_flows = std::max<std::size_t>(1, max_flows);
}

void FlowMeter::flush(SessionBatch& out) {
  while (lru_.tail != kNone) {
    ++stats_.closed_flush;
    end(lru_.tail, EndReason::Forced, out);
  }
}

// ---- per packet -------------------------------------------------------------------------------

bool FlowMeter::resolve_fragment(FlowPacket& p) {
  ++stats_.fragments;
  std::uint64_t h =
      mix(mix(0x51ED270B27ull, load64(p.src.bytes().data() + 8)), load64(p.dst.bytes().data() + 8));
  h = mix(h, std::uint64_t{p.fragment_id} << 8 | p.protocol);
  FragmentSlot& slot = fragments_[h & (kFragmentSlots - 1)];
  if (!p.later_fragment) {
    if (p.has_ports) slot = {p.src, p.dst, p.fragment_id, p.protocol, true, p.src_port, p.dst_port};
    return true;
  }
  if (slot.used && slot.id == p.fragment_id && slot.proto == p.protocol && slot.src == p.src &&
      slot.dst == p.dst) {
    p.src_port = slot.src_port;
    p.dst_port = slot.dst_port;
    return true;
  }
  ++stats_.fragments_unmatched;
  return false;
}

void FlowMeter::track_tcp(Entry& e, int dir, const FlowPacket& p, TimeNs ts) {
  Side& me = e.side[dir];
  Side& peer = e.side[1 - dir];
  const std::uint8_t f = p.tcp_flags;
  // Handshake and outcome.
  if ((f & kSyn) != 0 && (f & kAck) == 0) {
    if (!e.syn_seen) e.syn_seen = true;
    me.syn_time = ts;
  } else if ((f & kSyn) != 0 && (f & kAck) != 0) {
    if (e.syn_seen && !e.synack_seen && e.client == 1 - dir) {
      e.srv_rtt_us = (ts - peer.syn_time) / 1000;
    }
    e.synack_seen = true;
    e.synack_time = ts;
  } else if ((f & kAck) != 0 && (f & kRst) == 0 && e.synack_seen && !e.established &&
             e.client == dir) {
    e.established = true;
    e.cln_rtt_us = (ts - e.synack_time) / 1000;
  }
  if ((f & kRst) != 0) {
    if (e.syn_seen && !e.synack_seen && !e.established && e.client == 1 - dir)
      e.refused = true;
    else
      e.reset = true;
  }
  if (!e.established && !e.syn_seen && me.packets > 1 && peer.packets > 0) {
    e.established = true;  // picked up mid-connection: both sides talk
  }
  // Zero-window events: the transition to a zero window (RFC 9293 §3.8.6.1), not each probe.
  if ((f & (kSyn | kRst)) == 0) {
    if (p.window == 0 && !me.zero_window) {
      me.zero_window = true;
      ++me.zero_windows;
    } else if (p.window != 0) {
      me.zero_window = false;
    }
  }
  // Sequence analysis: segments that take sequence space (data, SYN, FIN).
  const std::uint32_t length =
      p.payload_length + ((f & kSyn) != 0 ? 1 : 0) + ((f & kFin) != 0 ? 1 : 0);
  if (length == 0 || (f & kRst) != 0) return;
  const std::uint32_t seq = p.seq;
  const std::uint32_t end = seq + length;
  if (!me.seq_known) {
    me.seq_known = true;
    me.max_end = end;
    me.max_end_time = ts;
    return;
  }
  if (!seq_before(seq, me.max_end)) {
    me.max_end = end;
    me.max_end_time = ts;
    return;
  }
  if (seq_before(me.max_end, end)) {  // overlaps old and new data: a repacketized resend
    ++me.retrans;
    me.max_end = end;
    me.max_end_time = ts;
    return;
  }
  // Entirely below the highest sequence seen: out of order when it comes soon after the segment
  // that went ahead (within the handshake RTT, else 3 ms) and does not end where that one
  // ended; else a retransmission (Wireshark's tcp analysis draws the same line).
  const TimeNs rtt_ns =
      (std::max<std::int64_t>(e.cln_rtt_us, 0) + std::max<std::int64_t>(e.srv_rtt_us, 0)) * 1000;
  const TimeNs window = rtt_ns > 0 ? rtt_ns : kMinReorderWindow;
  const TimeNs since = ts - me.max_end_time;  // negative in captures merged out of time order
  if (since >= 0 && since < window && end != me.max_end) {
    ++me.ooo;
  } else {
    ++me.retrans;
  }
}

namespace {

// Parses "h1,h2,h3,h4,p1,p2" (RFC 959 PORT and the 227 reply) starting at the first digit of
// `text`; fills an IPv4 address and port.
bool parse_host_port(std::string_view text, IpAddress& addr, std::uint16_t& port) {
  const auto digit = text.find_first_of("0123456789");
  if (digit == std::string_view::npos) return false;
  unsigned v[6];
  const char* p = text.data() + digit;
  const char* end = text.data() + text.size();
  for (int i = 0; i < 6; ++i) {
    auto [next, ec] = std::from_chars(p, end, v[i]);
    if (ec != std::errc() || v[i] > 255) return false;
    p = next;
    if (i < 5) {
      if (p == end || *p != ',') return false;
      ++p;
    }
  }
  addr = IpAddress::v4(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]);
  port = static_cast<std::uint16_t>(v[4] << 8 | v[5]);
  return true;
}

// RFC 2428: "EPRT |1|132.235.1.2|6275|" and "229 Entering Extended Passive Mode (|||6446|)".
// `addr` is left as given when the text has no address (EPSV).
bool parse_extended(std::string_view text, IpAddress& addr, std::uint16_t& port) {
  const auto open = text.find_first_of("|!#$%&'()*+,-./:;<=>?@[\\]^_`{}~");
  if (open == std::string_view::npos || text.size() < open + 4) return false;
  const char delim = text[open];
  std::string_view rest = text.substr(open + 1);
  std::string_view parts[3];
  for (auto& part : parts) {
    const auto at = rest.find(delim);
    if (at == std::string_view::npos) return false;
    part = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  if (!parts[1].empty()) {
    auto parsed = IpAddress::parse(parts[1]);
    if (!parsed) return false;
    addr = *parsed;
  }
  unsigned value = 0;
  auto [next, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), value);
  if (ec != std::errc() || next != parts[2].data() + parts[2].size() || value == 0 ||
      value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool starts_with_command(std::string_view text, std::string_view command) {
  if (text.size() < command.size()) return false;
  for (std::size_t i = 0; i < command.size(); ++i) {
    const char c = text[i] >= 'a' && text[i] <= 'z' ? static_cast<char>(text[i] - 32) : text[i];
    if (c != command[i]) return false;
  }
  return true;
}

}  // namespace

void FlowMeter::parse_ftp(Entry& e, int dir, const FlowPacket& p, TimeNs ts) {
  const std::string_view text(reinterpret_cast<const char*>(p.payload.data()),
                              std::min<std::size_t>(p.payload.size(), 256));
  IpAddress addr;
  std::uint16_t port = 0;
  bool found = false;
  if (p.dst_port == 21) {  // client to server: commands
    if (starts_with_command(text, "PORT ")) {
      found = parse_host_port(text.substr(5), addr, port);
    } else if (starts_with_command(text, "EPRT ")) {
      addr = p.src;
      found = parse_extended(text.substr(5), addr, port);
    }
  } else if (p.src_port == 21) {  // server replies
    if (text.starts_with("227")) {
      found = parse_host_port(text.substr(3), addr, port);
    } else if (text.starts_with("229")) {
      addr = p.src;  // the reply names only the port: the data connection goes to the server
      const auto open = text.find('(');
      found = open != std::string_view::npos && parse_extended(text.substr(open + 1), addr, port);
    }
  }
  (void)dir;
  if (!found) return;
  expectations_[next_expectation_] = {addr, port, e.session_id, ts + kExpectationLifetime};
  next_expectation_ = (next_expectation_ + 1) % expectations_.size();
}

void FlowMeter::add(LinkType link, std::span<const std::byte> frame, std::size_t wire_length,
                    TimeNs ts, SessionBatch& out) {
  ++stats_.packets;
  stats_.frame_bytes += wire_length;
  FlowPacket& p = packet_;
  const PacketIssue issue = decode_flow_packet(link, frame, p);
  if (issue != PacketIssue::None) {
    if (issue == PacketIssue::NotIp)
      ++stats_.not_ip;
    else
      ++stats_.malformed[static_cast<std::size_t>(issue)];
    return;
  }
  if (ts < now_)
    ++stats_.time_went_back;
  else
    now_ = ts;
  expire(now_, out);
  if (p.fragment) resolve_fragment(p);
  if (p.snapped) ++stats_.snapped;
  if (p.tunnels != 0) ++stats_.tunneled;
  ++stats_.metered;

  std::uint16_t sport = p.src_port;
  std::uint16_t dport = p.dst_port;
  const bool icmp = p.protocol == 1 || p.protocol == 58;
  bool echo_request = false;
  if (icmp && is_echo(p.protocol, dport)) {
    echo_request = is_echo_request(p.protocol, dport);
    dport = 0;  // request and reply are one session
  }
  Key key;
  key.proto = p.protocol;
  key.vlan = p.vlan;
  int dir;
  // Any total order normalizes the key; native 64-bit words are the cheapest.
  const std::uint64_t src_hi = load64(p.src.bytes().data());
  const std::uint64_t dst_hi = load64(p.dst.bytes().data());
  const std::uint64_t src_lo = load64(p.src.bytes().data() + 8);
  const std::uint64_t dst_lo = load64(p.dst.bytes().data() + 8);
  const int order = src_hi != dst_hi   ? (src_hi < dst_hi ? -1 : 1)
                    : src_lo != dst_lo ? (src_lo < dst_lo ? -1 : 1)
                                       : 0;
  if (order < 0 || (order == 0 && sport <= dport)) {
    key.a = p.src, key.b = p.dst, key.port_a = sport, key.port_b = dport;
    dir = 0;
  } else {
    key.a = p.dst, key.b = p.src, key.port_a = dport, key.port_b = sport;
    dir = 1;
  }
  const std::uint32_t hash = key.hash();
  std::uint32_t idx = find(key, hash);
  const bool tcp = p.protocol == 6 && p.tcp_header && !p.later_fragment;
  const bool bare_syn = tcp && (p.tcp_flags & (kSyn | kAck | kRst)) == kSyn;
  if (idx != kNone && bare_syn && entries_[idx].finished) {
    ++stats_.closed_reuse;  // port reuse: a new connection on a finished one's 5-tuple
    end(idx, EndReason::EndOfFlow, out);
    idx = kNone;
  }
  const bool created = idx == kNone;
  if (created) {
    idx = create(key, hash, ts, out);
    Entry& e = entries_[idx];
    e.first_side = static_cast<std::uint8_t>(dir);
    e.tos = p.tos;
    if (p.protocol == 6) {
      for (std::size_t i = 0; i < expectations_.size(); ++i) {
        Expectation& x = expectations_[i];
        if (x.control_id != 0 && x.port == p.dst_port && x.addr == p.dst && ts <= x.until) {
          e.ftp_ctrl = x.control_id;
          x.control_id = 0;
          ++stats_.ftp_data_tagged;
          break;
        }
      }
    }
  } else {
    unlink(lru_, idx);
    push_front(lru_, idx);
  }
  Entry& e = entries_[idx];
  Side& s = e.side[dir];
  if (s.packets == 0) s.first = ts;
  ++s.packets;
  const std::uint64_t bytes = config_.bytes == ByteCount::Frame ? wire_length : p.ip_length;
  s.bytes += bytes;
  stats_.metered_bytes += bytes;
  s.flags |= p.tcp_flags;
  if (echo_request) s.echo_request = true;
  if (ts > e.last) e.last = ts;
  if (ts < e.first) e.first = ts;
  if (bare_syn && e.client < 0) e.client = static_cast<std::int8_t>(dir);
  if (classifier_ && !e.app_done && !p.fragment && !p.ip.empty()) {
    e.app_done = classifier_->process(e.dpi, p.ip, ts / 1'000'000, e.app);
  }
  if (!tcp) return;
  track_tcp(e, dir, p, ts);
  if (!p.payload.empty() && (p.src_port == 21 || p.dst_port == 21)) parse_ftp(e, dir, p, ts);
  const std::uint8_t f = p.tcp_flags;
  if ((f & kFin) != 0) s.fin = true;
  if ((f & kRst) != 0) {
    ++stats_.closed_rst;
    end(idx, EndReason::EndOfFlow, out);
    return;
  }
  // Both sides sent FIN: the session lingers fin_timeout after its last packet (expire()).
  if (e.finished) {
    unlink(fin_, idx);
    push_back(fin_, idx);
  } else if (e.side[0].fin && e.side[1].fin) {
    e.finished = true;
    push_back(fin_, idx);
  }
}

}  // namespace flowscope::capture
