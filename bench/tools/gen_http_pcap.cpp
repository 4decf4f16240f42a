// gen_http_pcap: a reproducible capture of many HTTP transfers for bench/e2e/tcpflow_vs_tcpflow.sh.
// Usage: gen_http_pcap OUT.pcap SIZE_MB [SEED]
// Thousands of IPv4 connections, 48 open at a time and interleaved segment by segment; each is a
// handshake, a GET, a response (Content-Length or chunked, 1 in 8 gzip-encoded, bodies 1 KB to
// 1 MB, mostly small), and FINs. About 1% of segments are retransmitted and 1% swapped with the
// next one. The output depends only on SIZE_MB and SEED.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <zlib.h>

#include "capture/tcpflow/tcp_pcap_builder.h"

namespace {

using flowscope::capture::tcpflow::build_tcp_frame;
using flowscope::capture::tcpflow::TcpFrameSpec;
using flowscope::capture::tcpflow::TcpPcapFile;
namespace tf = flowscope::capture::tcpflow;

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

std::string gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Segment {
  bool from_client;
  std::uint32_t seq;
  std::uint8_t flags;
  std::string payload;
};

struct Connection {
  TcpFrameSpec client;
  TcpFrameSpec server;
  std::vector<Segment> segments;
  std::size_t next = 0;
};

std::string make_body(Rng& rng, const std::string& text, std::size_t size) {
  std::string body;
  body.reserve(size);
  while (body.size() < size) {
    const std::size_t at = rng.below(text.size() - 4096);
    body.append(text, at, std::min<std::size_t>(4096, size - body.size()));
  }
  return body;
}

Connection make_connection(Rng& rng, const std::string& text, std::uint32_t index) {
  Connection c;
  c.client.src = {10, static_cast<std::uint8_t>(1 + index % 200),
                  static_cast<std::uint8_t>(index / 200 % 250),
                  static_cast<std::uint8_t>(1 + index % 250)};
  c.client.dst = {192, 168, static_cast<std::uint8_t>(index % 8), 80};
  c.client.sport = static_cast<std::uint16_t>(1024 + index % 60000);
  c.client.dport = 80;
  c.server = c.client;
  std::swap(c.server.src, c.server.dst);
  std::swap(c.server.sport, c.server.dport);
  std::uint32_t cseq = static_cast<std::uint32_t>(rng.next());
  std::uint32_t sseq = static_cast<std::uint32_t>(rng.next());
  auto add = [&](bool client, std::uint32_t& seq, std::uint8_t flags, std::string payload) {
    c.segments.push_back({client, seq, flags, std::move(payload)});
  };
  add(true, cseq, tf::kTcpSyn, "");
  ++cseq;
  add(false, sseq, tf::kTcpSyn | tf::kTcpAck, "");
  ++sseq;
  add(true, cseq, tf::kTcpAck, "");
  const std::string get = "GET /object/" + std::to_string(index) +
                          " HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: gen_http_pcap\r\n"
                          "Accept: */*\r\n\r\n";
  add(true, cseq, tf::kTcpAck | tf::kTcpPsh, get);
  cseq += static_cast<std::uint32_t>(get.size());
  // Body sizes: mostly a few KB, a tail up to 1 MB.
  const std::size_t r = rng.below(100);
  std::size_t size = r < 70   ? 1000 + rng.below(15000)
                     : r < 95 ? 16000 + rng.below(120000)
                              : 136000 + rng.below(900000);
  const bool gz = rng.below(8) == 0;
  const bool chunked = rng.below(4) == 0;
  std::string body = make_body(rng, text, size);
  if (gz) body = gzip(body);
  std::string resp = "HTTP/1.1 200 OK\r\nServer: gen\r\nContent-Type: " +
                     std::string(index % 3 == 0   ? "text/html"
                                 : index % 3 == 1 ? "text/plain"
                                                  : "image/png") +
                     "\r\n";
  if (gz) resp += "Content-Encoding: gzip\r\n";
  if (chunked) {
    resp += "Transfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < body.size(); at += 8192) {
      const std::string part = body.substr(at, 8192);
      char hex[16];
      std::snprintf(hex, sizeof hex, "%zx\r\n", part.size());
      resp += hex + part + "\r\n";
    }
    resp += "0\r\n\r\n";
  } else {
    resp += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  for (std::size_t at = 0; at < resp.size(); at += 1448) {
    const std::string part = resp.substr(at, 1448);
    add(false, sseq, tf::kTcpAck, part);
    sseq += static_cast<std::uint32_t>(part.size());
    if (rng.below(100) == 0) c.segments.push_back(c.segments.back());  // retransmission
    if (rng.below(100) == 0 && c.segments.size() >= 2 &&
        !c.segments[c.segments.size() - 2].payload.empty()) {
      std::swap(c.segments[c.segments.size() - 1], c.segments[c.segments.size() - 2]);
    }
  }
  add(false, sseq, tf::kTcpFin | tf::kTcpAck, "");
  add(true, cseq, tf::kTcpFin | tf::kTcpAck, "");
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: gen_http_pcap OUT.pcap SIZE_MB [SEED]\n");
    return 2;
  }
  const std::uint64_t target = std::strtoull(argv[2], nullptr, 10) * 1000000ULL;
  Rng rng{argc > 3 ? std::strtoull(argv[3], nullptr, 10) * 2654435761ULL + 1 : 42};
  std::string text;
  const char* words[] = {"flow ", "packet ", "stream ",  "window ", "segment ", "header ",
                         "\r\n",  "<div>",   "</div>\n", "bench ",  "tcp ",     "http "};
  while (text.size() < (1 << 20)) text += words[rng.below(12)];
  TcpPcapFile out(argv[1]);
  if (!out.ok()) {
    std::fprintf(stderr, "gen_http_pcap: cannot write %s\n", argv[1]);
    return 1;
  }
  std::vector<Connection> open;
  std::uint32_t index = 0;
  std::uint64_t written = 24;
  std::int64_t t = 1700000000LL * 1000000;
  std::vector<std::uint8_t> frame;
  while (written < target || !open.empty()) {
    while (open.size() < 48 && written < target)
      open.push_back(make_connection(rng, text, index++));
    if (open.empty()) break;
    const std::size_t k = rng.below(open.size());
    Connection& c = open[k];
    const Segment& s = c.segments[c.next++];
    TcpFrameSpec spec = s.from_client ? c.client : c.server;
    spec.seq = s.seq;
    spec.flags = s.flags;
    build_tcp_frame(
        spec, {reinterpret_cast<const std::uint8_t*>(s.payload.data()), s.payload.size()}, frame);
    out.write(t, frame);
    t += 37;
    written += 16 + frame.size();
    if (c.next == c.segments.size()) {
      open[k] = std::move(open.back());
      open.pop_back();
    }
  }
  std::fprintf(stderr, "gen_http_pcap: %u connections, %.1f MB\n", index, written / 1e6);
  return out.close() ? 0 : 1;
}
