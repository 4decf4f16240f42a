#pragma once
// Internal to flowscope_decode: other modules use its public headers.
// The template engine shared by NetFlow v9 (RFC 3954) and IPFIX (RFC 7011): template and
// options-template cache, compilation of a template into a flat list of field operations, the
// data-record interpreter, the bounded buffer of data sets that arrive before their template,
// and persistence of the cache (format: docs/decode.md "Template cache file").
//
// The protocol files (netflow_v9.cpp, ipfix.cpp) parse headers and template records, which
// differ on the wire; everything after that is here, once (docs/conventions.md "One
// implementation").
//
// Invariants: templates are keyed by (exporter address, version, source id / observation
// domain, template id); a compiled template has min_record_length >= 1, so the record loop
// always advances; every cache (templates, domains, pending sets) has a cap and an eviction
// counter. An engine belongs to one thread (one FlowDecoder).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/field_registry.h"
#include "core/ip_address.h"
#include "core/record_batch.h"
#include "core/result.h"
#include "decode/decode_stats.h"

namespace flowscope::decode {

// RFC 7011 §7: length 65535 in a template announces a variable-length field.
inline constexpr std::uint16_t kVariableLength = 0xFFFF;

// One field specifier as on the wire (RFC 3954 §5.2, RFC 7011 §3.2).
struct TemplateField {
  std::uint16_t id = 0;          // IE id without the enterprise bit (v9: the type number)
  std::uint16_t length = 0;      // kVariableLength for variable-length (IPFIX only)
  std::uint32_t enterprise = 0;  // 0 = IETF element
  friend bool operator==(const TemplateField&, const TemplateField&) = default;
};

struct TemplateSpec {
  std::uint16_t template_id = 0;
  bool options = false;
  std::uint16_t scope_count = 0;  // options templates: the first scope_count fields are scope
  std::vector<TemplateField> fields;
  friend bool operator==(const TemplateSpec&, const TemplateSpec&) = default;
};

// The namespace of template ids: one source id (v9) or observation domain (IPFIX) of one
// exporter. v9 and IPFIX ids from the same exporter are kept apart by `version`.
struct DomainKey {
  IpAddress exporter;
  std::uint32_t domain = 0;
  std::uint8_t version = 0;
  friend bool operator==(const DomainKey&, const DomainKey&) = default;
};

struct DomainKeyHash {
  std::size_t operator()(const DomainKey& k) const noexcept {
    return IpAddressHash{}(k.exporter) ^ (std::size_t{k.domain} * 0x9E3779B97F4A7C15ull) ^
           (std::size_t{k.version} << 56);
  }
};

// What records need from their message header.
struct ExportContext {
  DomainKey key;
  std::int64_t export_ms = 0;               // export time of the message, ms since the epoch
  std::optional<std::uint32_t> sys_uptime;  // v9 header sysUpTime (ms); IPFIX has none
};

// How one template field is decoded; chosen once, when the template is compiled.
enum class OpKind : std::uint8_t {
  Skip,        // unmapped, enterprise, or a length the field cannot take
  UInt,        // unsigned big-endian integer, 1-8 bytes (reduced-size, RFC 7011 §6.2)
  LabelEntry,  // an MPLS label stack entry (IE 70, 3 bytes): its top 20 bits, the label
  Ip4,         // 4-byte address
  Ip6,         // 16-byte address
  TimeSec,     // dateTimeSeconds (IE 150/151)
  TimeMs,      // dateTimeMilliseconds (IE 152/153)
  TimeNtp,     // dateTimeMicro/Nanoseconds, NTP format (IE 154-157, RFC 7011 §6.1.9-10)
  TimeUptime,  // ms of exporter uptime (IE 21/22)
  SystemInit,  // systemInitTimeMilliseconds (IE 160): base of IE 21/22 in IPFIX
  SamplerId,   // sampler id (IE 48, 302): resolved through options data
  AppId,       // applicationId (IE 95, RFC 6759): "engine:selector"
  IfIndex,     // options scope naming an interface (v9 scope type 2, IPFIX IE 10/14/252/253)
  IfName,      // interfaceName (IE 82), in options data
  IfDescr,     // interfaceDescription (IE 83), in options data
};

struct FieldOp {
  std::uint16_t length = 0;  // wire length or kVariableLength
  OpKind kind = OpKind::Skip;
  // Several elements of the template fill this column (IPv4 and IPv6 source address,
  // L4_SRC_PORT and TCP_SRC_PORT, ...): a zero value, the unused alternative, then never
  // overwrites a value already set. Counters resolve this at compile time instead.
  bool shared = false;
  FieldId field{};
  std::uint8_t column = 0;  // FlowBatch::column_index(field), for validity checks
};

struct CompiledTemplate {
  TemplateSpec spec;  // kept for persistence
  std::vector<FieldOp> ops;
  std::size_t min_record_length = 0;  // >= 1
  bool variable = false;              // has variable-length fields
  bool sets_sampling = false;         // an element fills `sampling` directly
};

// An interface named by options data (RFC 3954 §6.1 scope "Interface" or an IPFIX options
// template scoped by ingressInterface, with interfaceName / interfaceDescription): what the
// enrichment's interface table learns from the exporter itself.
struct InterfaceName {
  IpAddress exporter;
  std::uint32_t domain = 0;
  std::uint32_t if_index = 0;
  std::string name;         // IE 82, "" when absent
  std::string description;  // IE 83, "" when absent
};

struct EngineLimits {
  std::size_t max_templates = 65536;   // over all exporters
  std::size_t max_fields = 512;        // per template
  std::size_t max_domains = 65536;     // options state (sampler, uptime) per domain
  std::size_t pending_max_sets = 256;  // data sets waiting for their template
  std::size_t pending_max_bytes = 1 << 20;
  std::size_t max_interface_names = 4096;  // learned, not yet taken by the caller
};

struct EngineOptions {
  EngineLimits limits;
  // Multiply packets and bytes by the sampling interval when one is known. Off by default:
  // records carry the exporter's counts and the interval in `sampling` (docs/decode.md).
  bool scale_sampled = false;
};

class TemplateEngine {
 public:
  TemplateEngine(DecodeStats& stats, EngineOptions options = {});
  TemplateEngine(const TemplateEngine&) = delete;
  TemplateEngine& operator=(const TemplateEngine&) = delete;

  // Compiles and stores (or replaces) a template, then decodes the buffered data sets that
  // were waiting for it into `batch`. Returns false, counted, when the template is refused.
  bool add_template(const ExportContext& ctx, TemplateSpec spec, FlowBatch& batch);
  // RFC 7011 §8.1: withdraws one template, or all of a domain (template id 2 or 3 = all data
  // or all options templates; we drop all templates of the domain for either).
  void withdraw(const DomainKey& key, std::uint16_t template_id);
  void withdraw_all(const DomainKey& key);

  // Decodes the records of one data set body (after its 4-byte header). When no template is
  // known the set is buffered (bounded) until one arrives. Returns records appended.
  std::size_t decode_data_set(const ExportContext& ctx, std::uint16_t set_id,
                              std::span<const std::byte> body, FlowBatch& batch);

  // Drops every buffered set, counting each as unknown_template (end of input).
  void drop_pending();

  // The interface names options data announced since the last call (bounded by
  // limits.max_interface_names; beyond, announcements are dropped until taken, and counted).
  std::vector<InterfaceName> take_interface_names() { return std::exchange(interface_names_, {}); }
  std::uint64_t interface_names_dropped() const { return interface_names_dropped_; }

  std::size_t template_count() const { return templates_.size(); }
  std::size_t pending_sets() const { return pending_.size(); }
  std::size_t pending_bytes() const { return pending_bytes_; }
  const CompiledTemplate* find(const DomainKey& key, std::uint16_t template_id) const;

  // Persistence across collector restarts (docs/decode.md "Template cache file").
  Result<void> save(const std::filesystem::path& path) const;
  // Adds the templates of a file to the cache; returns how many were loaded.
  Result<std::size_t> load(const std::filesystem::path& path);

 private:
  struct TemplateKey {
    DomainKey domain;
    std::uint16_t id = 0;
    friend bool operator==(const TemplateKey&, const TemplateKey&) = default;
  };
  struct TemplateKeyHash {
    std::size_t operator()(const TemplateKey& k) const noexcept {
      return DomainKeyHash{}(k.domain) ^ (std::size_t{k.id} * 0xC2B2AE3D27D4EB4Full);
    }
  };
  // What options data taught us about a domain (RFC 3954 §6.1, RFC 7011 §4).
  struct DomainState {
    std::optional<std::int64_t> system_init_ms;
    std::uint32_t default_sampling = 0;  // from options records without a sampler id
    std::vector<std::pair<std::uint32_t, std::uint32_t>> samplers;  // (id, interval), capped
  };
  struct PendingSet {
    ExportContext ctx;
    std::uint16_t template_id = 0;
    std::vector<std::byte> body;
  };

  std::optional<CompiledTemplate> compile(TemplateSpec&& spec, ExporterStats& st,
                                          const DomainKey& key);
  bool store(const DomainKey& key, CompiledTemplate&& tpl, const IpAddress& exporter);
  std::size_t decode_records(const CompiledTemplate& tpl, const ExportContext& ctx,
                             std::span<const std::byte> body, FlowBatch& batch);
  void emit_record(const CompiledTemplate& tpl, const ExportContext& ctx, DomainState* dom,
                   const std::byte* p, FlowBatch& batch);
  void apply_options(const CompiledTemplate& tpl, const DomainKey& key, DomainState& dom,
                     const std::byte* p);
  DomainState* domain_state(const DomainKey& key, bool create);
  void buffer_set(const ExportContext& ctx, std::uint16_t set_id, std::span<const std::byte> body);

  DecodeStats& stats_;
  EngineOptions options_;
  std::unordered_map<TemplateKey, CompiledTemplate, TemplateKeyHash> templates_;
  std::unordered_map<DomainKey, DomainState, DomainKeyHash> domains_;
  std::deque<PendingSet> pending_;
  std::size_t pending_bytes_ = 0;
  std::vector<InterfaceName> interface_names_;
  std::uint64_t interface_names_dropped_ = 0;
};

}  // namespace flowscope::decode
