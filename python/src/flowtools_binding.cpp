// flowtools: pyflowtools' API over flowscope's flow-tools reader and writer
// (import/flowtools_reader.h, import/flowtools_writer.h) and PDU decoders (import/netflow_pdu.h;
// v9 and IPFIX through a template cache, import/template_pdu.h).
// Behaviour follows pyflowtools 0.3 (theraphim/pyflowtools flowtools.c), read to learn:
// attribute names and kinds, getID's byte layout, FlowPDU's comparisons and is_next.
#include "flowtools_binding.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include "store/format.h"

#include "import/flowtools_format.h"
#include "import/flowtools_reader.h"
#include "import/flowtools_writer.h"
#include "import/netflow_pdu.h"
#include "import/template_pdu.h"

namespace py = pybind11;

namespace flowscope::python {
namespace {

using import::FtField;
using import::FtKind;
using import::FtLayout;
using import::FtRecord;

// Raises flowtools.<name> (Error, IOError or AttributeError) with `message`.
[[noreturn]] void raise(const char* name, const std::string& message) {
  py::object cls = py::module_::import("flowscope._native").attr("flowtools").attr(name);
  PyErr_SetString(cls.ptr(), message.c_str());
  throw py::error_already_set();
}

[[noreturn]] void raise_error(const Error& e) {
  raise(e.code == ErrorCode::Io ? "IOError" : "Error", e.message);
}

std::string dotted(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

struct Flow {
  FtRecord rec;
  const FtLayout* layout = nullptr;
  // v9/IPFIX records with an IPv6 address: source, destination, next hop (import/template_pdu.h).
  std::optional<std::array<IpAddress, 3>> addrs;

  // The IPv6 address in slot 0-2, or null when the field holds an IPv4 address (in `rec`).
  const IpAddress* ip6(int slot) const {
    if (slot < 0 || !addrs) return nullptr;
    const IpAddress& a = (*addrs)[static_cast<std::size_t>(slot)];
    return a.is_v6() ? &a : nullptr;
  }

  std::uint32_t get_checked(FtField f) const {
    // pyflowtools raises for a field the record version lacks rather than answering 0.
    if (!layout->has(f)) raise("AttributeError", "Attribute not supported by flow type");
    return rec.get(f);
  }

  // pyflowtools copies each field in the record's memory (host) order: source address, port,
  // input interface, then the same for the destination, then the protocol. With bidir the
  // smaller half (memcmp) comes first. The buffer is 18 bytes; its last byte, which
  // pyflowtools leaves uninitialised, is 0 here.
  py::bytes get_id(int bidir) const {
    char src[8], dst[8], out[18] = {};
    auto half = [&](char* p, FtField addr, FtField port, FtField ifc) {
      const std::uint32_t a = rec.get(addr);
      const auto pt = static_cast<std::uint16_t>(rec.get(port));
      const auto i = static_cast<std::uint16_t>(rec.get(ifc));
      std::memcpy(p, &a, 4);
      std::memcpy(p + 4, &pt, 2);
      std::memcpy(p + 6, &i, 2);
    };
    half(src, FtField::Srcaddr, FtField::Srcport, FtField::Input);
    half(dst, FtField::Dstaddr, FtField::Dstport, FtField::Output);
    const bool keep = !bidir || std::memcmp(src, dst, 8) < 0;
    std::memcpy(out, keep ? src : dst, 8);
    std::memcpy(out + 8, keep ? dst : src, 8);
    out[16] = static_cast<char>(rec.get(FtField::Prot));
    return py::bytes(out, sizeof out);
  }
};

// A parsed NetFlow PDU and its bytes (for comparisons).
struct FlowPdu {
  import::NetflowPdu pdu;
  std::string raw;

  bool has_ip6(std::size_t i) const {
    if (pdu.addresses.empty()) return false;
    for (const IpAddress& a : pdu.addresses[i]) {
      if (a.is_v6()) return true;
    }
    return false;
  }
  Flow flow(std::size_t i) const {
    Flow f{pdu.records[i], pdu.layout, std::nullopt};
    if (has_ip6(i)) f.addrs = pdu.addresses[i];
    return f;
  }
};

bool is_adjacent(const FlowPdu& a, const FlowPdu& b) {
  // As pyflowtools: the sequence wraps at 2^32 - 1, and its nanosecond test compares b with
  // itself, so only seconds and uptime order the two. A v9 sequence counts packets (RFC 3954
  // §5.1), the others count records.
  const std::uint32_t step = a.pdu.version == 9 ? 1u : a.pdu.count;
  const std::uint32_t next = (a.pdu.flow_sequence + step) % std::uint32_t{0xffffffff};
  return next == b.pdu.flow_sequence && a.pdu.sys_uptime <= b.pdu.sys_uptime &&
         a.pdu.unix_secs <= b.pdu.unix_secs;
}

bool precedes(const FlowPdu& a, const FlowPdu& b) {
  if (is_adjacent(a, b)) return true;
  const auto& x = a.pdu;
  const auto& y = b.pdu;
  if (x.flow_sequence == y.flow_sequence) {
    return x.unix_secs < y.unix_secs ||
           (x.unix_secs == y.unix_secs && x.unix_nsecs == y.unix_nsecs);
  }
  if (x.flow_sequence < y.flow_sequence) {
    if (x.sys_uptime <= y.sys_uptime) {
      return x.unix_secs < y.unix_secs ||
             (x.unix_secs == y.unix_secs && x.unix_nsecs <= y.unix_nsecs);
    }
    // The router rebooted between them: a later PDU has the smaller uptime.
    return x.unix_secs > y.unix_secs ||
           (x.unix_secs == y.unix_secs && x.unix_nsecs >= y.unix_nsecs);
  }
  return false;
}

py::object compare(const FlowPdu& a, const FlowPdu& b, int op) {
  const bool same_size = a.raw.size() == b.raw.size();
  if (!same_size && (op == Py_EQ || op == Py_NE)) return py::bool_(op == Py_NE);
  if (op == Py_EQ || op == Py_NE || op == Py_LE || op == Py_GE) {
    if (same_size && a.raw == b.raw) return py::bool_(op != Py_NE);
    if (op == Py_EQ || op == Py_NE) return py::bool_(op == Py_NE);
  }
  if (a.pdu.exporter != b.pdu.exporter) return py::bool_(false);
  if (op == Py_LT || op == Py_LE) return py::bool_(precedes(a, b));
  return py::bool_(precedes(b, a));
}

// Reads all of standard input without the GIL (FlowSet("-")).
std::string read_stdin() {
  py::gil_scoped_release release;
  std::string data;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

class FlowSet {
 public:
  FlowSet(const std::optional<std::string>& filename, const py::object& for_writing,
          unsigned version, int z_level, const std::string& byte_order,
          const std::optional<std::string>& comments) {
    const std::string path = filename.value_or("-");
    // pyflowtools writes only when for_writing is the object True.
    if (!for_writing.is(py::bool_(true))) {
      auto reader = path == "-" ? import::FlowtoolsReader::from_bytes(read_stdin(), "stdin")
                                : import::FlowtoolsReader::open_records(path);
      if (!reader) raise_error(reader.error());
      reader_.emplace(std::move(*reader));
      return;
    }
    if (byte_order != "little" && byte_order != "big") {
      raise("Error",
            fmt::format("byte_order \"{}\" is neither \"little\" nor \"big\"", byte_order));
    }
    import::FlowtoolsHeader h;
    h.version = static_cast<std::uint16_t>(version);
    h.big_endian = byte_order == "big";
    h.comments = comments;
    if (path == "-") {
      h.flags = import::kFtFlagStreaming;  // like flow-gen and flow-cat to a pipe
    } else {
      h.flow_count = 0;  // as pyflowtools: the count is set when the set is closed
    }
    auto writer = import::FlowtoolsWriter::create(path, std::move(h), {z_level, true});
    if (!writer) raise_error(writer.error());
    writer_.emplace(std::move(*writer));
  }

  FlowSet& iter() {
    if (!reader_) throw py::value_error("FlowSet was opened for writing; it cannot be iterated");
    return *this;
  }

  Flow next() {
    if (!reader_) throw py::value_error("FlowSet was opened for writing; it cannot be iterated");
    Flow f;
    if (!reader_->next(f.rec)) throw py::stop_iteration();
    f.layout = &reader_->layout();
    return f;
  }

  void write(const py::object& what) {
    if (!writer_) throw py::value_error("FlowSet was opened for reading; open it with True");
    auto put = [&](const FtRecord& r) {
      if (auto ok = writer_->write(r); !ok) raise_error(ok.error());
    };
    // flow-tools records hold IPv4 addresses only: a PDU with an IPv6 flow is refused whole.
    const char* no_ip6 = "an IPv6 flow has no flow-tools record; nothing was written";
    if (py::isinstance<FlowPdu>(what)) {
      const auto& p = what.cast<const FlowPdu&>();
      for (std::size_t i = 0; i < p.pdu.records.size(); ++i) {
        if (p.has_ip6(i)) raise("Error", no_ip6);
      }
      for (const FtRecord& r : p.pdu.records) put(r);
    } else if (py::isinstance<Flow>(what)) {
      const auto& f = what.cast<const Flow&>();
      if (f.ip6(0) || f.ip6(1) || f.ip6(2)) raise("Error", no_ip6);
      put(f.rec);
    } else {
      throw py::type_error("FlowSet.write takes a FlowPDU (or a Flow)");
    }
  }

  void close() {
    if (writer_) {
      auto r = writer_->close();
      writer_.reset();
      if (!r) raise_error(r.error());
    }
  }

  py::dict header() const {
    const import::FlowtoolsHeader& h = reader_ ? reader_->header() : writer_->header();
    py::dict d;
    d["version"] = reader_ ? reader_->layout().name() : writer_->layout().name();
    d["byte_order"] = h.big_endian ? "big" : "little";
    d["flags"] = h.flags;
    d["compressed"] = h.compressed();
    auto opt = [&](const char* key, const auto& v) {
      if (v) d[key] = *v;
    };
    opt("exporter_ip", h.exporter_ip);
    opt("cap_start", h.cap_start);
    opt("cap_end", h.cap_end);
    opt("flow_count", h.flow_count);
    opt("flows_lost", h.flows_lost);
    opt("flows_misordered", h.flows_misordered);
    opt("pkts_corrupt", h.pkts_corrupt);
    opt("seq_reset", h.seq_reset);
    opt("hostname", h.hostname);
    opt("comments", h.comments);
    return d;
  }

  // The remaining records as one structured array: one column per field of the version,
  // named as the Flow attribute with the same value (addresses and times raw), native byte
  // order. NumPy reads the file's records in place through a dtype with the layout's offsets
  // and byte order, then copies them into a packed native array a column at a time: no
  // per-record work here.
  py::array to_numpy() {
    if (!reader_) throw py::value_error("FlowSet was opened for writing");
    const FtLayout& layout = reader_->layout();
    const char order = reader_->big_endian() ? '>' : '<';
    py::list names, file_formats, formats, offsets;
    for (const import::FtSlot& s : layout.slots) {
      const auto& info = import::ft_field_info(s.field);
      names.append(info.kind == FtKind::Uint ? std::string(info.name)
                                             : std::string(info.name) + "_raw");
      const char* width = info.width == 1 ? "u1" : info.width == 2 ? "u2" : "u4";
      file_formats.append(std::string(1, order) + width);
      formats.append(width);
      offsets.append(s.offset);
    }
    py::dict file_spec;
    file_spec["names"] = names;
    file_spec["formats"] = file_formats;
    file_spec["offsets"] = offsets;
    file_spec["itemsize"] = layout.record_size;
    py::dict spec;
    spec["names"] = names;
    spec["formats"] = formats;
    const std::string_view records = reader_->take_records();
    const auto rows = static_cast<py::ssize_t>(records.size() / layout.record_size);
    // A view of the reader's memory (no copy); `out` below is filled from it before return.
    py::array in_file(py::dtype::from_args(file_spec), std::vector<py::ssize_t>{rows},
                      std::vector<py::ssize_t>{static_cast<py::ssize_t>(layout.record_size)},
                      records.data(), py::none());
    // Field by field (a strided, vectorised copy each; astype() between structured dtypes of
    // different layouts goes element by element and is 10x slower).
    py::array out(py::dtype::from_args(spec), std::vector<py::ssize_t>{rows});
    for (const py::handle name : names) out[name] = in_file[name];
    return out;
  }

 private:
  std::optional<import::FlowtoolsReader> reader_;
  std::optional<import::FlowtoolsWriter> writer_;
};

void bind_flow_attributes(py::class_<Flow>& cls) {
  // One table (import/flowtools_format.h) gives every attribute: its name, and for addresses and
  // times a second one ending in _raw with the integer.
  for (const import::FtFieldInfo& info : import::kFtFields) {
    const FtField f = info.id;
    const std::string name(info.name);
    auto raw = [f](const Flow& flow) { return flow.get_checked(f); };
    switch (info.kind) {
      case FtKind::Uint: cls.def_property_readonly(name.c_str(), raw); break;
      case FtKind::Addr: {
        // v9/IPFIX flows may carry IPv6 addresses: text as RFC 5952, _raw a 128-bit integer.
        const int slot = f == FtField::Srcaddr   ? 0
                         : f == FtField::Dstaddr ? 1
                         : f == FtField::Nexthop ? 2
                                                 : -1;
        cls.def_property_readonly(name.c_str(), [f, slot](const Flow& flow) -> py::object {
          if (const IpAddress* a = flow.ip6(slot)) return py::str(a->to_string());
          return py::str(dotted(flow.get_checked(f)));
        });
        cls.def_property_readonly((name + "_raw").c_str(), [f, slot](const Flow& flow) {
          if (const IpAddress* a = flow.ip6(slot)) {
            const std::string hex = fmt::format("{:016x}{:016x}", a->high64(), a->low64());
            return py::reinterpret_steal<py::object>(PyLong_FromString(hex.c_str(), nullptr, 16));
          }
          return py::reinterpret_steal<py::object>(PyLong_FromUnsignedLong(flow.get_checked(f)));
        });
        break;
      }
      case FtKind::Time:
        cls.def_property_readonly(name.c_str(), [f](const Flow& flow) {
          const import::FtTime t = import::ft_absolute_time(flow.rec, flow.get_checked(f));
          return static_cast<double>(t.secs) + t.msecs * 1e-3;
        });
        cls.def_property_readonly((name + "_raw").c_str(), raw);
        break;
    }
  }
}

}  // namespace

void bind_flowtools(py::module_& m) {
  py::object error =
      py::reinterpret_steal<py::object>(PyErr_NewException("flowtools.Error", nullptr, nullptr));
  m.attr("Error") = error;
  auto sub = [&](const char* name, PyObject* base) {
    py::tuple bases = py::make_tuple(error, py::handle(base));
    m.attr(name) = py::reinterpret_steal<py::object>(
        PyErr_NewException(fmt::format("flowtools.{}", name).c_str(), bases.ptr(), nullptr));
  };
  sub("IOError", PyExc_IOError);
  sub("AttributeError", PyExc_AttributeError);

  py::class_<Flow> flow(m, "Flow", "One flow record (pyflowtools' Flow)");
  bind_flow_attributes(flow);
  flow.def("getID", &Flow::get_id, py::arg("bidir") = 0,
           "Flow ID bytes: source addr/port/input, destination addr/port/output, protocol");
  flow.def_property_readonly("version", [](const Flow& f) { return f.layout->name(); });

  py::class_<import::PduTemplateCache>(
      m, "TemplateCache",
      "TemplateCache(): NetFlow v9/IPFIX templates that FlowPDUs share (flowtools extension)")
      .def(py::init<>())
      .def("__len__", &import::PduTemplateCache::template_count)
      .def_property_readonly("templates", &import::PduTemplateCache::template_count);
  // The cache of FlowPDU(exporter, buffer) without cache=: the module's own, for scripts that
  // read one stream of datagrams (docs/python.md "v9 and IPFIX").
  m.attr("default_template_cache") =
      py::cast(new import::PduTemplateCache(), py::return_value_policy::take_ownership);

  py::class_<FlowPdu>(
      m, "FlowPDU", "FlowPDU(exporter, buffer, cache=None): a NetFlow v1/v5/v7/v8/v9 or IPFIX PDU")
      .def(py::init([m](std::uint32_t exporter, const py::bytes& buffer, py::object cache) {
             FlowPdu p;
             p.raw = buffer;
             const auto bytes = store::as_bytes(p.raw);
             const bool templated = bytes.size() >= 2 && bytes[0] == std::byte{0} &&
                                    (bytes[1] == std::byte{9} || bytes[1] == std::byte{10});
             auto pdu = [&]() -> Result<import::NetflowPdu> {
               if (!templated) return import::decode_netflow_pdu(exporter, bytes);
               if (cache.is_none()) cache = m.attr("default_template_cache");
               if (!py::isinstance<import::PduTemplateCache>(cache)) {
                 throw py::type_error("FlowPDU: cache must be a flowtools.TemplateCache");
               }
               return import::decode_template_pdu(cache.cast<import::PduTemplateCache&>(), exporter,
                                                  bytes);
             }();
             if (!pdu) raise("Error", pdu.error().message);
             p.pdu = std::move(*pdu);
             return p;
           }),
           py::arg("exporter"), py::arg("buffer"), py::arg("cache") = py::none())
      .def_property_readonly("version", [](const FlowPdu& p) { return p.pdu.version; })
      .def_property_readonly("count", [](const FlowPdu& p) { return p.pdu.count; })
      .def_property_readonly("sysUpTime", [](const FlowPdu& p) { return p.pdu.sys_uptime; })
      .def_property_readonly("unix_secs", [](const FlowPdu& p) { return p.pdu.unix_secs; })
      .def_property_readonly("unix_nsecs", [](const FlowPdu& p) { return p.pdu.unix_nsecs; })
      .def_property_readonly("sequence", [](const FlowPdu& p) { return p.pdu.flow_sequence; })
      .def_property_readonly("flow_sequence", [](const FlowPdu& p) { return p.pdu.flow_sequence; })
      .def_property_readonly("engine_type", [](const FlowPdu& p) { return p.pdu.engine_type; })
      .def_property_readonly("engine_id", [](const FlowPdu& p) { return p.pdu.engine_id; })
      .def_property_readonly("sampling", [](const FlowPdu& p) { return p.pdu.sampling; })
      .def_property_readonly("agg_method", [](const FlowPdu& p) { return p.pdu.agg_method; })
      .def_property_readonly("agg_version", [](const FlowPdu& p) { return p.pdu.agg_version; })
      .def_property_readonly("exporter", [](const FlowPdu& p) { return p.pdu.exporter; })
      .def_property_readonly("source_id", [](const FlowPdu& p) { return p.pdu.source_id; })
      .def_property_readonly("missing_templates",
                             [](const FlowPdu& p) { return p.pdu.missing_templates; })
      .def_property_readonly("options_records",
                             [](const FlowPdu& p) { return p.pdu.options_records; })
      .def("__len__", [](const FlowPdu& p) { return p.pdu.records.size(); })
      .def("__iter__",
           [](const FlowPdu& p) {
             py::list flows;
             for (std::size_t i = 0; i < p.pdu.records.size(); ++i) flows.append(p.flow(i));
             return py::iter(flows);
           })
      .def(
          "is_next", [](const FlowPdu& a, const FlowPdu& b) { return is_adjacent(a, b); },
          py::arg("other"), "True when `other` immediately follows this PDU")
      .def("__eq__", [](const FlowPdu& a, const FlowPdu& b) { return compare(a, b, Py_EQ); })
      .def("__ne__", [](const FlowPdu& a, const FlowPdu& b) { return compare(a, b, Py_NE); })
      .def("__lt__", [](const FlowPdu& a, const FlowPdu& b) { return compare(a, b, Py_LT); })
      .def("__le__", [](const FlowPdu& a, const FlowPdu& b) { return compare(a, b, Py_LE); })
      .def("__gt__", [](const FlowPdu& a, const FlowPdu& b) { return compare(a, b, Py_GT); })
      .def("__ge__", [](const FlowPdu& a, const FlowPdu& b) { return compare(a, b, Py_GE); })
      .attr("__hash__") = py::none();

  py::class_<FlowSet>(m, "FlowSet", "FlowSet(filename='-', for_writing=False): flow-tools file")
      .def(py::init<const std::optional<std::string>&, const py::object&, unsigned, int,
                    const std::string&, const std::optional<std::string>&>(),
           py::arg("filename") = py::none(), py::arg("for_writing") = py::none(), py::kw_only(),
           py::arg("version") = 5, py::arg("z_level") = 9, py::arg("byte_order") = "little",
           py::arg("comments") = py::none())
      .def("__iter__", &FlowSet::iter, py::return_value_policy::reference_internal)
      .def("__next__", &FlowSet::next)
      .def("write", &FlowSet::write, py::arg("pdu"))
      .def("close", &FlowSet::close)
      .def(
          "__enter__", [](FlowSet& s) -> FlowSet& { return s; },
          py::return_value_policy::reference_internal)
      .def("__exit__", [](FlowSet& s, const py::args&) { s.close(); })
      .def_property_readonly("header", &FlowSet::header)
      .def("to_numpy", &FlowSet::to_numpy);
}

}  // namespace flowscope::python
