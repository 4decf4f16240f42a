#include "capture/tcp_reassembler.h"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace flowscope::capture {
namespace {

constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kRst = 0x04;
constexpr std::uint8_t kAck = 0x10;

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

std::size_t TcpFlowKeyHash::operator()(const TcpFlowKey& k) const noexcept {
  // FNV-1a over the fields; the table is keyed by exact 4-tuple and family.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ULL;
    }
  };
  const std::size_t alen = k.family == 6 ? 16 : 4;
  mix(k.src.data(), alen);
  mix(k.dst.data(), alen);
  const std::uint8_t tail[5] = {
      static_cast<std::uint8_t>(k.sport >> 8), static_cast<std::uint8_t>(k.sport),
      static_cast<std::uint8_t>(k.dport >> 8), static_cast<std::uint8_t>(k.dport), k.family};
  mix(tail, sizeof tail);
  return static_cast<std::size_t>(h);
}

void SeenSet::add(std::uint64_t begin, std::uint64_t end) {
  if (begin >= end) return;
  // Merge with every range that overlaps or touches [begin, end).
  auto it = ranges_.upper_bound(begin);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= begin) it = prev;
  }
  while (it != ranges_.end() && it->first <= end) {
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    total_ -= it->second - it->first;
    it = ranges_.erase(it);
  }
  ranges_.emplace(begin, end);
  total_ += end - begin;
}

TcpReassembler::TcpReassembler(TcpReassemblerOptions options, TcpStreamSink& sink)
    : options_(options), sink_(sink) {}

TcpVerdict TcpReassembler::process(const TcpPacket& packet) {
  const TcpVerdict verdict = process_segment(packet);
  // tcpflow ages flows after the packet; age only changes when the second does.
  if (options_.tcp_timeout_s > 0 && packet.ts_raw.sec != last_expire_s_) {
    last_expire_s_ = packet.ts_raw.sec;
    expire(packet.ts_raw.sec);
  }
  return verdict;
}

TcpVerdict TcpReassembler::process_segment(const TcpPacket& packet) {
  // The TCP header must be in the capture (a 40-byte snap length yields no flows in tcpflow).
  if (packet.segment_length < 20 || packet.segment.size() < 20) return TcpVerdict::NotProcessed;
  const std::uint8_t* h = packet.segment.data();
  const std::uint32_t seq = be32(h + 4);
  const std::uint8_t flags = h[13];
  const bool syn = flags & kSyn;
  const bool ack = flags & kAck;
  const bool fin = flags & kFin;
  const bool rst = flags & kRst;
  const std::uint32_t header_len = static_cast<std::uint32_t>(h[12] >> 4) * 4;
  const std::uint32_t data_len =
      packet.segment_length > header_len ? packet.segment_length - header_len : 0;
  std::span<const std::uint8_t> data;
  if (packet.segment.size() > header_len) {
    data = packet.segment.subspan(header_len);
    if (data.size() > data_len) data = data.first(data_len);
  }

  auto it = flows_.find(packet.key);
  TcpStream* s = it == flows_.end() ? nullptr : it->second.get();
  if (s == nullptr && !start_new_) return TcpVerdict::Processed;

  // A second SYN on a connection that already carried data is ignored (tcpflow: "SYN TO IGNORE").
  if (syn && s != nullptr && s->syn_count > 0 && s->pos > 0) return TcpVerdict::NotProcessed;

  if (s == nullptr) {
    if (data_len == 0) {
      if (fin || rst || (!syn && !ack)) return TcpVerdict::Processed;
    } else if (auto sv = saved_.find(packet.key); sv != saved_.end()) {
      // A late retransmission of a closed flow's data starts nothing.
      const std::uint32_t offset = seq - sv->second.isn - 1;
      if (data.size() == data_len && sink_.saved_data_matches(sv->second.slot, offset, data)) {
        return TcpVerdict::Processed;
      }
    }
  }

  std::int32_t delta = 0;
  if (s != nullptr) {
    delta = static_cast<std::int32_t>(seq - s->nsn);
    if (static_cast<std::uint32_t>(std::abs(static_cast<std::int64_t>(delta))) >
        options_.max_seek) {
      remove(packet.key);
      delta = 0;
      s = nullptr;
    }
  }

  if (s == nullptr) {
    if (!syn && data_len == 0) return TcpVerdict::Processed;
    auto fresh = std::make_unique<TcpStream>();
    fresh->key = packet.key;
    fresh->vlan = packet.vlan;
    fresh->has_mac = packet.has_mac;
    fresh->mac_src = packet.mac_src;
    fresh->mac_dst = packet.mac_dst;
    fresh->id = stats_.flows++;
    fresh->tstart = packet.ts;
    fresh->tstart_raw = packet.ts_raw;
    fresh->isn = syn ? seq : seq - 1;
    fresh->nsn = fresh->isn + 1;
    fresh->lru_tick = ++tick_;
    s = fresh.get();
    flows_.emplace(packet.key, std::move(fresh));
    if (flows_.size() > stats_.max_open) stats_.max_open = flows_.size();
    sink_.on_open(*s);
  }

  s->tlast = packet.ts;
  s->tlast_raw = packet.ts_raw;
  s->packets++;
  s->len += packet.wire_length;
  s->caplen += packet.cap_length;
  stats_.packets++;

  if (syn) {
    s->syn_count++;
    s->dir = ack ? TcpDirection::ServerToClient : TcpDirection::ClientToServer;
    if (data_len > 0) s->violations++;
  }

  if (data_len > 0) {
    if (options_.console) {
      sink_.on_print(*s, data);
    } else if (options_.store) {
      store(*s, data, data_len, delta, packet.ts);
    }
  }

  if (rst) {
    remove(packet.key);
    return TcpVerdict::Processed;
  }
  if (fin) {
    s->fin_count++;
    if (s->fin_count == 1) s->fin_size = seq + data_len - s->isn - 1;
  } else {
    s->lru_tick = ++tick_;
  }
  if (s->fin_count > 0 && s->seen_bytes() == s->fin_size && options_.purge_on_fin) {
    remove(packet.key);
  }
  return TcpVerdict::Processed;
}

void TcpReassembler::store(TcpStream& s, std::span<const std::uint8_t> data, std::uint32_t length,
                           std::int32_t delta, TimeUs ts) {
  std::uint64_t offset = s.pos + static_cast<std::uint64_t>(static_cast<std::int64_t>(delta));
  std::uint64_t insert_bytes = 0;
  if (static_cast<std::int64_t>(offset) < 0) {
    // Bytes before offset 0: a violation after a SYN, else our ISN guess was late.
    if (s.syn_count > 0) {
      s.violations++;
      return;
    }
    insert_bytes = static_cast<std::uint64_t>(-static_cast<std::int64_t>(offset));
    offset = 0;
  }
  if (insert_bytes > 0) {
    sink_.on_insert_front(s, insert_bytes);
    s.isn -= static_cast<std::uint32_t>(insert_bytes);
    s.pos = 0;
    s.nsn = s.isn + 1;
    s.out_of_order_count++;
    s.seen.reset();  // tcpflow cannot shift its seen set either
  }
  if (offset != s.pos) {
    if (delta == -1 && length == 1) return;  // RFC 1122 keep-alive
    if (delta < 0) s.out_of_order_count++;
    s.pos += static_cast<std::uint64_t>(static_cast<std::int64_t>(delta));
    s.nsn += static_cast<std::uint32_t>(delta);
  }
  sink_.on_store(s, offset, data, length, ts);
  if (s.seen) {
    s.seen->add(s.pos, s.pos + length);
    if (s.seen->intervals() > kMaxSeenIntervals) {
      s.seen.reset();
      stats_.seen_dropped++;
    }
  }
  s.pos += length;
  s.nsn += length;
  if (s.pos > s.last_byte) s.last_byte = s.pos;
}

void TcpReassembler::remove(const TcpFlowKey& key) {
  auto it = flows_.find(key);
  if (it == flows_.end()) return;
  std::unique_ptr<TcpStream> s = std::move(it->second);
  flows_.erase(it);
  sink_.on_close(*s);
  save(*s);
}

void TcpReassembler::save(const TcpStream& s) {
  if (!saved_order_.empty() && saved_order_.size() > options_.max_saved_flows) {
    auto old = saved_.find(saved_order_.front());
    if (old != saved_.end()) {
      sink_.forget_saved(old->second.slot);
      saved_.erase(old);
    }
    saved_order_.pop_front();
  }
  auto prev = saved_.find(s.key);
  if (prev != saved_.end()) sink_.forget_saved(prev->second.slot);
  saved_[s.key] = Saved{s.isn, sink_.save_slot(s)};
  saved_order_.push_back(s.key);
}

void TcpReassembler::expire(std::int64_t now_s) {
  std::vector<TcpFlowKey> old;
  for (const auto& [key, stream] : flows_) {
    const std::int64_t age = now_s - stream->tlast_raw.sec;
    if (age > static_cast<std::int64_t>(options_.tcp_timeout_s)) old.push_back(key);
  }
  for (const auto& key : old) remove(key);
}

void TcpReassembler::close_all() {
  std::vector<TcpFlowKey> keys;
  keys.reserve(flows_.size());
  for (const auto& entry : flows_) keys.push_back(entry.first);
  for (const auto& key : keys) remove(key);
}

}  // namespace flowscope::capture
