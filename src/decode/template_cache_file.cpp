// TemplateEngine::save / load: the template cache file that lets templates survive a collector
// restart. Format (all integers big-endian), documented in docs/decode.md:
//   magic "FSTC", u16 format version (1), u32 template count, then per template
//     16 bytes exporter address, u8 protocol version (9, 10), u32 domain, u16 template id,
//     u8 flags (bit 0: options template), u16 scope count, u16 field count,
//     field count x (u16 id, u16 length, u32 enterprise)
//   and a trailing u32 FNV-1a of every byte before it.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "decode/template_engine.h"

namespace flowscope::decode {
namespace {

constexpr char kMagic[4] = {'F', 'S', 'T', 'C'};
constexpr std::uint16_t kFormatVersion = 1;

std::uint32_t fnv1a(std::span<const std::byte> data) {
  std::uint32_t h = 2166136261u;
  for (std::byte b : data) {
    h ^= static_cast<std::uint8_t>(b);
    h *= 16777619u;
  }
  return h;
}

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void raw(const void* p, std::size_t n) {
    auto b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  std::vector<std::byte>& bytes() { return out_; }

 private:
  std::vector<std::byte> out_;
};

}  // namespace

Result<void> TemplateEngine::save(const std::filesystem::path& path) const {
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.u16(kFormatVersion);
  w.u32(static_cast<std::uint32_t>(templates_.size()));
  for (const auto& [key, tpl] : templates_) {
    w.raw(key.domain.exporter.bytes().data(), 16);
    w.u8(key.domain.version);
    w.u32(key.domain.domain);
    w.u16(key.id);
    w.u8(tpl.spec.options ? 1 : 0);
    w.u16(tpl.spec.scope_count);
    w.u16(static_cast<std::uint16_t>(tpl.spec.fields.size()));
    for (const TemplateField& f : tpl.spec.fields) {
      w.u16(f.id);
      w.u16(f.length);
      w.u32(f.enterprise);
    }
  }
  w.u32(fnv1a(w.bytes()));
  // Write to a temporary and rename, so a crash mid-write leaves the old file intact.
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(w.bytes().data()),
              static_cast<std::streamsize>(w.bytes().size()));
    if (!out) {
      return Error{ErrorCode::Io, "cannot write template cache " + tmp.string() +
                                      "; check that the directory exists and is writable"};
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return Error{ErrorCode::Io,
                 "cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message()};
  }
  return ok();
}

Result<std::size_t> TemplateEngine::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::NotFound, "cannot open template cache " + path.string()};
  }
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::span<const std::byte> data(reinterpret_cast<const std::byte*>(chars.data()), chars.size());
  auto corrupt = [&](const std::string& what) {
    return Error{ErrorCode::Corruption, "template cache " + path.string() + ": " + what +
                                            "; delete the file, templates are re-learnt from "
                                            "the exporters"};
  };
  if (data.size() < 14 || std::memcmp(data.data(), kMagic, 4) != 0) {
    return corrupt("not a flowscope template cache (bad magic)");
  }
  ByteReader trailer(data.subspan(data.size() - 4));
  if (trailer.u32be() != fnv1a(data.first(data.size() - 4))) {
    return corrupt("checksum mismatch");
  }
  ByteReader r(data.first(data.size() - 4));
  r.skip(4);
  std::uint16_t format = r.u16be();
  if (format != kFormatVersion) {
    return corrupt("format version " + std::to_string(format) + " is not supported (expected " +
                   std::to_string(kFormatVersion) + ")");
  }
  std::uint32_t count = r.u32be();
  DecodeStats scratch_stats;  // compile() counters for loaded templates are not traffic
  std::size_t loaded = 0;
  for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
    IpAddress::Bytes addr{};
    r.copy_out(addr.data(), addr.size());
    DomainKey key{IpAddress(addr), 0, 0};
    key.version = r.u8();
    key.domain = r.u32be();
    TemplateSpec spec;
    spec.template_id = r.u16be();
    spec.options = (r.u8() & 1) != 0;
    spec.scope_count = r.u16be();
    std::uint16_t fields = r.u16be();
    if (!r.has(std::size_t{fields} * 8)) return corrupt("template record truncated");
    spec.fields.reserve(fields);
    for (std::uint16_t field_idx = 0; field_idx < fields; ++field_idx) {
      TemplateField f;
      f.id = r.u16be();
      f.length = r.u16be();
      f.enterprise = r.u32be();
      spec.fields.push_back(f);
    }
    if (r.failed()) break;
    ExporterStats& st = scratch_stats.of(key.exporter);
    std::optional<CompiledTemplate> tpl = compile(std::move(spec), st, key);
    if (!tpl) return corrupt("template " + std::to_string(i) + " is invalid");
    if (store(key, std::move(*tpl), key.exporter)) ++loaded;
  }
  if (r.failed()) return corrupt("file truncated");
  return loaded;
}

}  // namespace flowscope::decode
