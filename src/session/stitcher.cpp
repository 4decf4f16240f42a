#include "session/stitcher.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <variant>

namespace flowscope::session {
namespace {

constexpr std::uint16_t kUnlistedRank = 0xffff;

// The normalized 5-tuple (plus VLANs): endpoint 0 is the lower (address, port) of the two, so
// both directions of a session produce the same key.
struct Key {
  IpAddress addr[2];
  std::uint16_t port[2] = {};
  std::uint16_t vlan[2] = {};
  std::uint8_t proto = 0;
  friend bool operator==(const Key&, const Key&) = default;
};

struct Normalized {
  Key key;
  int sender = 0;  // endpoint that sent the record's packets
  bool echo_request = false;
};

inline std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

// Every word goes through the full mix before the next joins. (A plain multiply chain does not
// do: a product's low bits depend only on the factors' low bits, so keys differing in the last
// bytes of an IPv4 address (the high bits of its word) and the ports collided within 16 bits:
// 28 of 2,000 keys of one /16 talking to one server; checkpoints identify open sessions by this
// hash, and the index's probe chains grew with the collisions.)
std::uint64_t hash_key(const Key& k) {
  const auto& a = k.addr[0].bytes();
  const auto& b = k.addr[1].bytes();
  std::uint64_t h = mix(load64(a.data()) ^ 0x9e3779b97f4a7c15ull);
  h = mix(h ^ load64(a.data() + 8));
  h = mix(h ^ load64(b.data()));
  h = mix(h ^ load64(b.data() + 8));
  h = mix(h ^ ((std::uint64_t{k.port[0]} << 48) | (std::uint64_t{k.port[1]} << 32) |
               (std::uint64_t{k.vlan[0]} << 20) | (std::uint64_t{k.vlan[1]} << 8) | k.proto));
  return h;
}

// ICMP echo request/reply (RFC 792 types 8/0, RFC 4443 types 128/129) pair up with ports 0;
// other ICMP messages keep type*256+code as their destination port and stay one-sided.
Normalized normalize(const IpAddress& src, std::uint16_t sport, const IpAddress& dst,
                     std::uint16_t dport, std::uint8_t proto, std::uint16_t svlan,
                     std::uint16_t dvlan) {
  Normalized n;
  if (proto == 1 || proto == 58) {
    const unsigned type = dport >> 8;
    const unsigned request = proto == 1 ? 8 : 128;
    const unsigned reply = proto == 1 ? 0 : 129;
    if (type == request || type == reply) {
      n.echo_request = type == request;
      sport = 0;
      dport = 0;
    }
  }
  // A VLAN given on one side only is the segment both directions share (a switch's sFlow).
  const std::uint16_t sv = svlan != 0 ? svlan : dvlan;
  const std::uint16_t dv = dvlan != 0 ? dvlan : svlan;
  const bool src_low = src < dst || (src == dst && sport <= dport);
  n.sender = src_low ? 0 : 1;
  n.key.addr[n.sender] = src;
  n.key.port[n.sender] = sport;
  n.key.vlan[n.sender] = sv;
  n.key.addr[1 - n.sender] = dst;
  n.key.port[1 - n.sender] = dport;
  n.key.vlan[1 - n.sender] = dv;
  n.key.proto = proto;
  return n;
}

// ---- fields carried as they are -----------------------------------------------------------
// Every stored field that both one-way flows and sessions have (Scope::Both in core/fields.def)
// reaches the session. These have a rule of their own; every other one is carried generically
// from the describing side's record (the client's, else the server's), so that a row added to
// the registry is carried without a change here (tests/session/stitch_fields_test.cpp).
constexpr bool has_own_rule(FieldId id) {
  switch (id) {
    case FieldId::Proto:     // part of the key
    case FieldId::TcpFlags:  // the union of both sides, and each side's in cln/srv_tcp_flags
    case FieldId::InIf:      // swapped when the describing record is the server's
    case FieldId::OutIf:
    case FieldId::Exporter:  // chooses between exporters' copies of a direction (precedence)
    case FieldId::Sampling:  // the per-exporter override; scales the counts
      return true;
    default: return false;
  }
}

constexpr bool carried(const FieldInfo& f) {
  return f.scope == Scope::Both && f.kind == FieldKind::Stored && !has_own_rule(f.id);
}

constexpr std::size_t kCarried = [] {
  std::size_t n = 0;
  for (const FieldInfo& f : kFieldTable) n += carried(f);
  return n;
}();
static_assert(kCarried <= 32, "the presence mask of carried fields is 32 bits");

// A carried value's width in a side's buffer: text is held as an id of the stitcher's string
// table (4 bytes, like the batches' dictionary ids).
constexpr std::size_t carry_width(FieldType t) {
  return t == FieldType::String ? sizeof(std::uint32_t) : type_width(t);
}

struct CarrySlot {
  FieldId id;
  std::uint16_t offset;
  std::uint16_t width;
  bool text;
};

constexpr std::array<CarrySlot, kCarried> kCarrySlots = [] {
  std::array<CarrySlot, kCarried> slots{};
  std::size_t i = 0;
  std::size_t offset = 0;
  for (const FieldInfo& f : kFieldTable) {
    if (!carried(f)) continue;
    slots[i++] = {f.id, static_cast<std::uint16_t>(offset),
                  static_cast<std::uint16_t>(carry_width(f.type)), f.type == FieldType::String};
    offset += carry_width(f.type);
  }
  return slots;
}();

constexpr std::size_t kCarryBytes = [] {
  std::size_t n = 0;
  for (const CarrySlot& s : kCarrySlots) n += s.width;
  return n;
}();

// The carried values of one record or side; a bit of `present` per kCarrySlots entry.
struct Carry {
  std::array<std::byte, kCarryBytes> bytes{};
  std::uint32_t present = 0;
};

// Raw bytes of a fixed-width column's values (nullptr for text).
const std::byte* column_bytes(const Column& col) {
  return std::visit(
      [](const auto& v) -> const std::byte* {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, StringColumn>) {
          return nullptr;
        } else {
          return reinterpret_cast<const std::byte*>(v.data());
        }
      },
      col.data());
}
std::byte* column_bytes(Column& col) {
  return std::visit(
      [](auto& v) -> std::byte* {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, StringColumn>) {
          return nullptr;
        } else {
          return reinterpret_cast<std::byte*>(v.data());
        }
      },
      col.data());
}

// What one endpoint sent, as the chosen exporter reported it.
struct Side {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t packets_raw = 0;
  std::uint64_t bytes_raw = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;
  IpAddress exporter;
  std::uint32_t in_if = 0;
  std::uint32_t out_if = 0;
  std::uint32_t src_as = 0;
  std::uint32_t dst_as = 0;
  std::uint32_t sampling = 0;
  std::uint16_t rank = kUnlistedRank;
  std::uint8_t flags = 0;
  bool seen = false;
  bool echo_request = false;
  Carry carry;
};

struct Entry {
  Key key;
  Side side[2];
  std::int64_t touched = 0;          // record-time watermark at the last record
  std::uint64_t first_position = 0;  // raw-flow log position of the first record (0: none)
  std::uint32_t hash32 = 0;
  std::uint8_t first_seen = 0;
};

// Index slot: entry + 1 (0 = empty) and the low 32 bits of the key's hash (home slot and tag).
struct Slot {
  std::uint32_t entry_plus1 = 0;
  std::uint32_t hash32 = 0;
};

struct RingItem {
  std::uint32_t entry = 0;
  std::int64_t touched = 0;
};

// One record's values, read from the batch's columns.
struct Record {
  std::uint64_t packets, bytes, packets_raw, bytes_raw;
  std::int64_t first, last;
  IpAddress exporter;
  std::uint32_t in_if, out_if, src_as, dst_as, sampling;
  std::uint16_t rank;
  std::uint8_t flags;
  bool echo_request;
  Carry carry;
};

struct ExporterInfo {
  IpAddress exporter;
  std::uint16_t rank = kUnlistedRank;
  std::uint32_t sampling = 0;
};

enum class CloseReason { Idle, Capacity, Flush };

}  // namespace

struct Stitcher::Impl {
  StitcherConfig config;
  std::vector<Entry> entries;
  std::vector<std::uint32_t> free_list;
  std::vector<Slot> slots;
  std::size_t mask = 0;
  std::vector<RingItem> ring;
  std::size_t ring_head = 0;
  std::size_t ring_count = 0;
  std::int64_t watermark = 0;
  std::uint64_t next_id = 1;
  std::vector<ExporterInfo> exporters;
  ExporterInfo last_exporter;  // memo: records of a batch mostly share an exporter
  bool last_valid = false;
  // Text of carried String fields (application labels): few distinct values, so a table that
  // grows to kMaxStrings and then refuses new ones (counted in carried_text_dropped).
  static constexpr std::size_t kMaxStrings = 1u << 16;
  std::vector<std::string> strings;
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> string_ids;

  // The id of `text` in the string table, or nullopt when the table is full.
  std::optional<std::uint32_t> intern(std::string_view text) {
    auto it = string_ids.find(text);
    if (it != string_ids.end()) return it->second;
    if (strings.size() >= kMaxStrings) return std::nullopt;
    const auto id = static_cast<std::uint32_t>(strings.size());
    strings.emplace_back(text);
    string_ids.emplace(strings.back(), id);
    return id;
  }

  explicit Impl(StitcherConfig c) : config(std::move(c)) {
    config.max_open = std::clamp<std::size_t>(config.max_open, 1, std::size_t{1} << 31);
    grow(std::min<std::size_t>(config.max_open, kInitialSlots));
    next_id = config.first_session_id;
    for (std::size_t i = 0; i < config.exporter_precedence.size(); ++i) {
      exporters.push_back({config.exporter_precedence[i],
                           static_cast<std::uint16_t>(std::min<std::size_t>(i, kUnlistedRank - 1)),
                           0});
    }
    for (const ExporterRule& r : config.exporter_rules) {
      auto it = std::find_if(exporters.begin(), exporters.end(),
                             [&](const ExporterInfo& e) { return e.exporter == r.exporter; });
      if (it == exporters.end()) {
        exporters.push_back({r.exporter, kUnlistedRank, r.sampling});
      } else {
        it->sampling = r.sampling;
      }
    }
  }

  // The slab starts small and doubles up to max_open, so a Stitcher configured for millions
  // of sessions costs little until traffic needs it; growth is rare (log2(max_open) times in
  // a process), never per record. The index is rebuilt from the ring, which holds exactly one
  // item per live entry.
  static constexpr std::size_t kInitialSlots = 1024;
  std::size_t capacity() const { return entries.size(); }

  void grow(std::size_t n) {
    const std::size_t old = entries.size();
    entries.resize(n);
    for (std::size_t i = n; i > old; --i) free_list.push_back(static_cast<std::uint32_t>(i - 1));
    std::vector<RingItem> items;
    items.reserve(ring_count);
    for (std::size_t k = 0; k < ring_count; ++k)
      items.push_back(ring[(ring_head + k) % ring.size()]);
    ring.assign(n, RingItem{});
    std::copy(items.begin(), items.end(), ring.begin());
    ring_head = 0;
    slots.assign(std::bit_ceil(std::max<std::size_t>(16, 2 * n)), Slot{});
    mask = slots.size() - 1;
    for (const RingItem& item : items) {
      const Entry& e = entries[item.entry];
      slots[probe(e.key, e.hash32)] = {item.entry + 1, e.hash32};
    }
  }

  const ExporterInfo& exporter_info(const IpAddress& exporter) {
    if (last_valid && last_exporter.exporter == exporter) return last_exporter;
    last_exporter = ExporterInfo{exporter, kUnlistedRank, 0};
    for (const ExporterInfo& e : exporters) {
      if (e.exporter == exporter) last_exporter = e;
    }
    last_valid = true;
    return last_exporter;
  }

  std::size_t open() const { return entries.size() - free_list.size(); }

  // Returns the slot holding `key`, or the empty slot where it would go.
  std::size_t probe(const Key& key, std::uint32_t h32) const {
    std::size_t i = h32 & mask;
    while (true) {
      const Slot& s = slots[i];
      if (s.entry_plus1 == 0) return i;
      if (s.hash32 == h32 && entries[s.entry_plus1 - 1].key == key) return i;
      i = (i + 1) & mask;
    }
  }

  // Backward-shift deletion (linear probing): no tombstones, so probes stay short.
  void erase_slot(std::size_t i) {
    std::size_t j = i;
    while (true) {
      j = (j + 1) & mask;
      if (slots[j].entry_plus1 == 0) break;
      const std::size_t home = slots[j].hash32 & mask;
      // The element at j may move to i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        slots[i] = slots[j];
        i = j;
      }
    }
    slots[i] = Slot{};
  }

  void ring_push(std::uint32_t entry, std::int64_t touched) {
    ring[(ring_head + ring_count) % ring.size()] = {entry, touched};
    ++ring_count;
  }
  RingItem ring_pop() {
    RingItem item = ring[ring_head];
    ring_head = (ring_head + 1) % ring.size();
    --ring_count;
    return item;
  }
};

Stitcher::Stitcher(StitcherConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Stitcher::~Stitcher() = default;

std::size_t Stitcher::open_sessions() const { return impl_->open(); }

std::size_t Stitcher::bytes_per_slot() {
  // The index has at least two slots per entry (load factor <= 1/2).
  return sizeof(Entry) + 2 * sizeof(Slot) + sizeof(RingItem) + sizeof(std::uint32_t);
}

std::size_t Stitcher::memory_bytes() const {
  return impl_->entries.capacity() * sizeof(Entry) + impl_->slots.capacity() * sizeof(Slot) +
         impl_->ring.capacity() * sizeof(RingItem) +
         impl_->free_list.capacity() * sizeof(std::uint32_t);
}

namespace {

void fill_side(Side& s, const Record& r) {
  s.packets = r.packets;
  s.bytes = r.bytes;
  s.packets_raw = r.packets_raw;
  s.bytes_raw = r.bytes_raw;
  s.first = r.first;
  s.last = r.last;
  s.exporter = r.exporter;
  s.in_if = r.in_if;
  s.out_if = r.out_if;
  s.src_as = r.src_as;
  s.dst_as = r.dst_as;
  s.sampling = r.sampling;
  s.rank = r.rank;
  s.flags = r.flags;
  s.seen = true;
  s.echo_request = r.echo_request;
  s.carry = r.carry;
}

void merge_side(Side& s, const Record& r) {
  s.packets += r.packets;
  s.bytes += r.bytes;
  s.packets_raw += r.packets_raw;
  s.bytes_raw += r.bytes_raw;
  if (r.first != 0 && (s.first == 0 || r.first < s.first)) s.first = r.first;
  s.last = std::max(s.last, r.last);
  s.flags |= r.flags;
  s.echo_request = s.echo_request || r.echo_request;
  // Carried values: the later record's present ones win (its end reason, its firewall event).
  if (r.carry.present != 0) {
    for (std::size_t i = 0; i < kCarried; ++i) {
      if (((r.carry.present >> i) & 1u) == 0) continue;
      const CarrySlot& slot = kCarrySlots[i];
      std::memcpy(s.carry.bytes.data() + slot.offset, r.carry.bytes.data() + slot.offset,
                  slot.width);
    }
    s.carry.present |= r.carry.present;
  }
}

// Writes the describing side's carried values into row `row` of `out`.
void emit_carried(const Carry& carry, const std::vector<std::string>& strings, std::size_t row,
                  SessionBatch& out) {
  for (std::size_t i = 0; i < kCarried; ++i) {
    if (((carry.present >> i) & 1u) == 0) continue;
    const CarrySlot& slot = kCarrySlots[i];
    Column& col = out.mutable_column(slot.id);
    if (slot.text) {
      std::uint32_t id;
      std::memcpy(&id, carry.bytes.data() + slot.offset, sizeof id);
      col.strings().set(row, strings[id]);
    } else {
      std::memcpy(column_bytes(col) + row * slot.width, carry.bytes.data() + slot.offset,
                  slot.width);
    }
    col.mark_valid(row);
  }
}

// Writes one closed session as a row of `out`.
void emit(const Entry& e, std::uint64_t id, const ServicePorts& services,
          const std::vector<std::string>& strings, SessionBatch& out, StitchStats& stats) {
  SideView views[2];
  for (int i = 0; i < 2; ++i) {
    views[i] = {e.side[i].seen, e.key.port[i], e.side[i].flags, e.side[i].first,
                e.side[i].echo_request};
  }
  const ClientDecision d = decide_client(e.key.proto, views, services, e.first_seen);
  const int c = d.client;
  const int s = 1 - c;
  const Side& cs = e.side[c];
  const Side& ss = e.side[s];
  const int p = cs.seen ? c : s;  // the side whose record describes the session
  const Side& ps = e.side[p];

  const std::size_t row = out.add_row();
  out.set<FieldId::SessionId>(row, id);
  out.set<FieldId::ClnAddr>(row, e.key.addr[c]);
  out.set<FieldId::SrvAddr>(row, e.key.addr[s]);
  out.set<FieldId::ClnPort>(row, e.key.port[c]);
  out.set<FieldId::SrvPort>(row, e.key.port[s]);
  out.set<FieldId::Proto>(row, e.key.proto);
  out.set<FieldId::ClnPackets>(row, cs.packets);
  out.set<FieldId::SrvPackets>(row, ss.packets);
  out.set<FieldId::ClnBytes>(row, cs.bytes);
  out.set<FieldId::SrvBytes>(row, ss.bytes);
  out.set<FieldId::ClnPacketsRaw>(row, cs.packets_raw);
  out.set<FieldId::SrvPacketsRaw>(row, ss.packets_raw);
  out.set<FieldId::ClnBytesRaw>(row, cs.bytes_raw);
  out.set<FieldId::SrvBytesRaw>(row, ss.bytes_raw);
  std::int64_t start = 0;
  std::int64_t end = 0;
  for (const Side& side : e.side) {
    if (!side.seen) continue;
    if (side.first != 0 && (start == 0 || side.first < start)) start = side.first;
    end = std::max(end, side.last);
  }
  if (start != 0) out.set<FieldId::StartTime>(row, start);
  if (end != 0) out.set<FieldId::EndTime>(row, end);
  if (e.key.proto == 6) {
    out.set<FieldId::TcpFlags>(row, static_cast<std::uint8_t>(cs.flags | ss.flags));
    if (cs.seen) out.set<FieldId::ClnTcpFlags>(row, cs.flags);
    if (ss.seen) out.set<FieldId::SrvTcpFlags>(row, ss.flags);
  }
  // The describing record is the server's when only the server side was seen: its input is
  // the session's output and its source AS the server's.
  const bool from_client = p == c;
  const std::uint32_t in_if = from_client ? ps.in_if : ps.out_if;
  const std::uint32_t out_if = from_client ? ps.out_if : ps.in_if;
  if (in_if != 0) out.set<FieldId::InIf>(row, in_if);
  if (out_if != 0) out.set<FieldId::OutIf>(row, out_if);
  const std::uint32_t cln_as = from_client ? ps.src_as : ps.dst_as;
  const std::uint32_t srv_as = from_client ? ps.dst_as : ps.src_as;
  if (cln_as != 0) out.set<FieldId::ClnAs>(row, cln_as);
  if (srv_as != 0) out.set<FieldId::SrvAs>(row, srv_as);
  if (e.key.vlan[c] != 0) out.set<FieldId::InVlan>(row, e.key.vlan[c]);
  if (e.key.vlan[s] != 0) out.set<FieldId::OutVlan>(row, e.key.vlan[s]);
  emit_carried(ps.carry, strings, row, out);
  out.set<FieldId::Exporter>(row, ps.exporter);
  if (ps.sampling > 1) out.set<FieldId::Sampling>(row, ps.sampling);
  const std::uint8_t sides = static_cast<std::uint8_t>(cs.seen + ss.seen);
  out.set<FieldId::Sides>(row, sides);

  ++stats.sessions;
  ++(sides == 2 ? stats.sessions_two_sided : stats.sessions_one_sided);
  ++stats.client_by_reason[static_cast<int>(d.reason)];
}

bool is_sflow(std::uint8_t version) { return version == 18 || version == 20 || version == 21; }

}  // namespace

std::uint64_t session_shard_hash(const FlowBatch& flows, std::size_t row) {
  const Normalized n = normalize(flows.get<FieldId::SrcAddr>(row), flows.get<FieldId::SrcPort>(row),
                                 flows.get<FieldId::DstAddr>(row), flows.get<FieldId::DstPort>(row),
                                 flows.get<FieldId::Proto>(row), flows.get<FieldId::SrcVlan>(row),
                                 flows.get<FieldId::DstVlan>(row));
  return hash_key(n.key);
}

void Stitcher::add(const FlowBatch& flows, SessionBatch& out, TimeMs now) {
  add_rows(flows, nullptr, out, now);
}

void Stitcher::add(const FlowBatch& flows, const RowSelection& selection, SessionBatch& out,
                   TimeMs now) {
  add_rows(flows, &selection, out, now);
}

std::int64_t Stitcher::watermark() const { return impl_->watermark; }

void Stitcher::open_sessions(std::vector<OpenSession>& out) const {
  const Impl& m = *impl_;
  for (std::size_t k = 0; k < m.ring_count; ++k) {
    const RingItem& item = m.ring[(m.ring_head + k) % m.ring.size()];
    // The ring holds exactly one item per open entry (stale or not: expire() re-queues).
    const Entry& e = m.entries[item.entry];
    out.push_back({hash_key(e.key), e.first_position});
  }
}

void Stitcher::add_rows(const FlowBatch& flows, const RowSelection* selection, SessionBatch& out,
                        TimeMs now) {
  Impl& m = *impl_;
  const auto src = flows.values<FieldId::SrcAddr>();
  const auto dst = flows.values<FieldId::DstAddr>();
  const auto sport = flows.values<FieldId::SrcPort>();
  const auto dport = flows.values<FieldId::DstPort>();
  const auto proto = flows.values<FieldId::Proto>();
  const auto svlan = flows.values<FieldId::SrcVlan>();
  const auto dvlan = flows.values<FieldId::DstVlan>();
  const auto packets = flows.values<FieldId::FlowPackets>();
  const auto bytes = flows.values<FieldId::FlowBytes>();
  const auto first = flows.values<FieldId::First>();
  const auto last = flows.values<FieldId::Last>();
  const auto flags = flows.values<FieldId::TcpFlags>();
  const auto exporter = flows.values<FieldId::Exporter>();
  const auto version = flows.values<FieldId::Version>();
  const auto sampling = flows.values<FieldId::Sampling>();
  const auto in_if = flows.values<FieldId::InIf>();
  const auto out_if = flows.values<FieldId::OutIf>();
  const auto src_as = flows.values<FieldId::SrcAs>();
  const auto dst_as = flows.values<FieldId::DstAs>();
  const Column& src_col = flows.column(FieldId::SrcAddr);
  const Column& dst_col = flows.column(FieldId::DstAddr);
  const std::int64_t now_ms = to_ms(now);
  // The carried columns this batch has values in (most exporters fill few of them).
  struct CarrySource {
    std::size_t slot;
    const Column* col;
    const std::byte* data;
  };
  std::array<CarrySource, kCarried> carry_sources;
  std::size_t carry_count = 0;
  for (std::size_t i = 0; i < kCarried; ++i) {
    const Column& col = flows.column(kCarrySlots[i].id);
    if (col.valid_count(flows.size()) == 0) continue;
    carry_sources[carry_count++] = {i, &col, column_bytes(col)};
  }

  const std::size_t count = selection != nullptr ? selection->rows.size() : flows.size();
  const bool given_watermarks = selection != nullptr && !selection->watermarks.empty();
  const std::uint64_t position_base = selection != nullptr ? selection->position_base : 0;
  for (std::size_t sel_idx = 0; sel_idx < count; ++sel_idx) {
    const std::size_t row = selection != nullptr ? selection->rows[sel_idx] : sel_idx;
    ++stats_.records;
    if (!src_col.valid(row) || !dst_col.valid(row)) {
      ++stats_.records_no_address;
      continue;
    }
    const Normalized n =
        normalize(src[row], sport[row], dst[row], dport[row], proto[row], svlan[row], dvlan[row]);
    const ExporterInfo& info = m.exporter_info(exporter[row]);

    // Counts: NetFlow/IPFIX export what was sampled; sFlow's decoder already scaled by the
    // record's rate (docs/decode.md), so its raw count is the scaled one divided back.
    Record r{};
    const std::uint32_t record_rate = sampling[row] > 1 ? sampling[row] : 1;
    const std::uint32_t rate = info.sampling != 0 ? info.sampling : record_rate;
    if (is_sflow(version[row])) {
      r.packets_raw = packets[row] / record_rate;
      r.bytes_raw = bytes[row] / record_rate;
    } else {
      r.packets_raw = packets[row];
      r.bytes_raw = bytes[row];
    }
    r.packets = r.packets_raw * rate;
    r.bytes = r.bytes_raw * rate;
    r.first = first[row];
    r.last = last[row];
    r.exporter = exporter[row];
    r.in_if = in_if[row];
    r.out_if = out_if[row];
    r.src_as = src_as[row];
    r.dst_as = dst_as[row];
    r.sampling = rate;
    r.rank = info.rank;
    r.flags = flags[row];
    r.echo_request = n.echo_request;
    r.carry.present = 0;
    for (std::size_t k = 0; k < carry_count; ++k) {
      const CarrySource& source = carry_sources[k];
      if (!source.col->valid(row)) continue;
      const CarrySlot& slot = kCarrySlots[source.slot];
      if (slot.text) {
        const std::optional<std::uint32_t> id = m.intern(source.col->strings().get(row));
        if (!id) {
          ++stats_.carried_text_dropped;
          continue;
        }
        std::memcpy(r.carry.bytes.data() + slot.offset, &*id, sizeof *id);
      } else {
        std::memcpy(r.carry.bytes.data() + slot.offset, source.data + row * slot.width, slot.width);
      }
      r.carry.present |= 1u << source.slot;
    }

    std::int64_t t = r.last != 0 ? r.last : (r.first != 0 ? r.first : now_ms);
    if (given_watermarks) t = std::max(t, selection->watermarks[sel_idx]);
    if (t > m.watermark) {
      m.watermark = t;
      // Close what went idle before this record can match it (a reverse record arriving after
      // the window must not join the old session).
      if (m.ring_count > 0 && m.ring[m.ring_head].touched + m.config.window.count() <= t) {
        expire(out, false);
      }
    }

    const std::uint64_t h = hash_key(n.key);
    const auto h32 = static_cast<std::uint32_t>(h);
    std::size_t pos = m.probe(n.key, h32);
    std::uint32_t idx;
    if (m.slots[pos].entry_plus1 == 0) {
      if (m.free_list.empty()) {
        if (m.capacity() < m.config.max_open) {
          m.grow(std::min(m.config.max_open, 2 * m.capacity()));
        } else {
          evict_one(out);
        }
        pos = m.probe(n.key, h32);  // growth or eviction moved slots
      }
      idx = m.free_list.back();
      m.free_list.pop_back();
      Entry& e = m.entries[idx];
      e.key = n.key;
      e.side[0] = Side{};
      e.side[1] = Side{};
      e.hash32 = h32;
      e.first_position = position_base != 0 ? position_base + row : 0;
      e.first_seen = static_cast<std::uint8_t>(n.sender);
      e.touched = m.watermark;
      m.slots[pos] = {idx + 1, h32};
      m.ring_push(idx, m.watermark);
    } else {
      idx = m.slots[pos].entry_plus1 - 1;
      Entry& old = m.entries[idx];
      if (old.touched + m.config.window.count() <= m.watermark) {
        // Idle for a window but not closed yet (its expiry-ring item sits behind a fresher
        // one): this record starts a new session, whatever the ring's order. The entry is
        // reused in place, so its ring item and index slot stay valid.
        emit_entry(idx, out);
        ++stats_.closed_idle;
        old.side[0] = Side{};
        old.side[1] = Side{};
        old.first_position = position_base != 0 ? position_base + row : 0;
        old.first_seen = static_cast<std::uint8_t>(n.sender);
      }
    }
    Entry& e = m.entries[idx];
    e.touched = m.watermark;
    Side& side = e.side[n.sender];
    if (!side.seen) {
      fill_side(side, r);
    } else if (side.exporter == r.exporter) {
      merge_side(side, r);  // the same exporter split the flow (active timeout)
      ++stats_.records_merged;
    } else if (r.rank < side.rank) {
      fill_side(side, r);
      ++stats_.duplicates_replaced;
    } else {
      ++stats_.duplicates_dropped;
    }
  }
  expire(out, false);
}

void Stitcher::advance(TimeMs now, SessionBatch& out) {
  impl_->watermark = std::max(impl_->watermark, to_ms(now));
  expire(out, false);
}

void Stitcher::flush(SessionBatch& out) { expire(out, true); }

void Stitcher::emit_entry(std::uint32_t idx, SessionBatch& out) {
  Impl& m = *impl_;
  const Entry& e = m.entries[idx];
  std::uint64_t id = e.first_position;
  if (id == 0) {
    id = m.next_id;
    m.next_id += m.config.session_id_stride;
  }
  emit(e, id, m.config.services, m.strings, out, stats_);
}

void Stitcher::close(std::uint32_t idx, SessionBatch& out) {
  Impl& m = *impl_;
  const Entry& e = m.entries[idx];
  emit_entry(idx, out);
  m.erase_slot(m.probe(e.key, e.hash32));
  m.free_list.push_back(idx);
}

void Stitcher::expire(SessionBatch& out, bool all) {
  Impl& m = *impl_;
  const std::int64_t window = m.config.window.count();
  while (m.ring_count > 0) {
    const RingItem front = m.ring[m.ring_head];
    const Entry& e = m.entries[front.entry];
    if (e.touched != front.touched) {  // touched since it was queued: queue it again
      m.ring_pop();
      m.ring_push(front.entry, e.touched);
      continue;
    }
    if (!all && e.touched + window > m.watermark) break;
    m.ring_pop();
    close(front.entry, out);
    ++(all ? stats_.closed_flush : stats_.closed_idle);
  }
}

void Stitcher::evict_one(SessionBatch& out) {
  Impl& m = *impl_;
  while (m.ring_count > 0) {
    const RingItem front = m.ring_pop();
    const Entry& e = m.entries[front.entry];
    if (e.touched != front.touched) {
      m.ring_push(front.entry, e.touched);
      continue;
    }
    close(front.entry, out);
    ++stats_.closed_capacity;
    return;
  }
}

}  // namespace flowscope::session
