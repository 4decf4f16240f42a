// flowscope: stores, servers, the registry, and pcaps, for Python (store_binding.h).
// Local and remote queries give the same thing: a SessionBatch (a server's csv+ answer is read
// back with the CSV importer, which reads exactly what `flowscope query` writes), and stat()
// gives the JSON lines of `flowscope stat --json` both ways.
#include "store_binding.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pybind11/stl.h>

#include "capture/flow_meter.h"
#include "capture/pcap_source.h"
#include "core/packet_parser.h"
#include "core/time.h"
#include "decode/flow_decoder.h"
#include "query/executor.h"
#include "query/output.h"
#include "query/query_spec.h"
#include "server/client.h"
#include "store/batch_codec.h"
#include "store/embedded_store.h"

#include "import/csv_import.h"
#include "numpy_columns.h"

namespace py = pybind11;

namespace flowscope::python {
namespace {

// Errors from flowscope become ValueError (bad input: filter, spec, time) or OSError (files,
// connections), with flowscope's message, which names what and where.
[[noreturn]] void raise(const Error& e) {
  if (e.code == ErrorCode::Io || e.code == ErrorCode::NotFound) {
    PyErr_SetString(PyExc_OSError, e.message.c_str());
  } else {
    PyErr_SetString(PyExc_ValueError, e.message.c_str());
  }
  throw py::error_already_set();
}

template <typename T>
T value_or_raise(Result<T> r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

query::Selection selection(const std::string& filter, const py::object& time) {
  query::Selection where;
  where.filter = filter;
  if (time.is_none() || (py::isinstance<py::str>(time) && time.cast<std::string>() == "all")) {
    return where;
  }
  if (py::isinstance<py::str>(time)) {
    const auto window = value_or_raise(
        parse_window(time.cast<std::string>(), TimeContext::system(TimeZoneRef::utc())));
    where.begin_ms = to_ms(window.begin);
    where.end_ms = to_ms(window.end);
    return where;
  }
  auto [begin, end] = time.cast<std::pair<std::int64_t, std::int64_t>>();
  where.begin_ms = begin;
  where.end_ms = end;
  return where;
}

std::vector<FieldId> output_fields(const std::optional<std::vector<std::string>>& names) {
  if (!names) return query::default_query_fields();
  std::vector<FieldId> out;
  for (const std::string& n : *names) {
    const FieldId f = value_or_raise(query::parse_output_field(n));
    if (field_info(f).kind != FieldKind::Stored) {
      throw py::value_error(
          fmt::format("field \"{}\" is derived ({}); ask for its operands instead", n,
                      definition(field_info(f))));
    }
    out.push_back(f);
  }
  return out;
}

query::StatSpec stat_spec(const std::string& group, const std::string& count, std::uint64_t top,
                          const std::string& direction, const py::object& time,
                          const std::string& filter, const std::optional<std::string>& series) {
  query::StatSpec spec;
  spec.where = selection(filter, time);
  if (!group.empty()) spec.group_by = value_or_raise(query::parse_group_spec(group));
  if (auto r = query::parse_count_spec(count, spec); !r) raise(r.error());
  if (direction == "both") {
    spec.side = query::Side::Both;
  } else if (direction == "send") {
    spec.side = query::Side::Send;
  } else if (direction == "receive") {
    spec.side = query::Side::Receive;
  } else {
    throw py::value_error(
        fmt::format("direction \"{}\": use \"both\", \"send\" or \"receive\"", direction));
  }
  spec.top = top;
  if (series) spec.bucket_ms = value_or_raise(parse_duration(*series)).count();
  return spec;
}

// Where queries run: a store opened here, or a server.
class Source {
 public:
  virtual ~Source() = default;
  virtual SessionBatch query(const query::QuerySpec& spec) = 0;
  virtual std::string stat(const query::StatSpec& spec) = 0;
};

class LocalSource : public Source {
 public:
  explicit LocalSource(std::unique_ptr<store::EmbeddedStore> store) : store_(std::move(store)) {}
  SessionBatch query(const query::QuerySpec& spec) override {
    SessionBatch all;
    auto stats = [&] {
      py::gil_scoped_release release;
      return query::execute_query(*store_, spec, [&](const SessionBatch& rows) {
        store::append_all(rows, all);
        return true;
      });
    }();
    if (!stats) raise(stats.error());
    return all;
  }
  std::string stat(const query::StatSpec& spec) override {
    auto result = [&] {
      py::gil_scoped_release release;
      return query::execute_stat(*store_, spec);
    }();
    if (!result) raise(result.error());
    std::ostringstream out;
    query::OutputOptions o;
    o.format = query::OutputFormat::JsonLines;
    query::write_stat(out, spec, *result, o);
    return out.str();
  }

 private:
  std::unique_ptr<store::EmbeddedStore> store_;
};

class RemoteSource : public Source {
 public:
  explicit RemoteSource(server::Client client) : client_(std::move(client)) {}
  const server::Client& client() const { return client_; }

  SessionBatch query(const query::QuerySpec& spec) override {
    const std::string text = request("query", query::to_json(spec), "csv+");
    std::istringstream in(text);
    SessionBatch all;
    auto importer = value_or_raise(import::CsvImporter::open(in, "server answer"));
    while (importer.read(all, 1 << 16)) {
    }
    if (importer.stats().skipped > 0) {
      throw py::value_error("the server's answer had rows that do not read back: " +
                            importer.stats().examples.front());
    }
    return all;
  }
  std::string stat(const query::StatSpec& spec) override {
    return request("stat", query::to_json(spec), "json");
  }

 private:
  std::string request(const char* kind, nlohmann::json spec, const char* output) {
    nlohmann::json req = {
        {"kind", kind}, {"spec", std::move(spec)}, {"output", output}, {"zone", "UTC"}};
    std::string text;
    auto done = [&] {
      py::gil_scoped_release release;
      return client_.request(std::move(req), [&](const server::Frame& f) {
        if (f.type == server::FrameType::Rows && f.body.contains("text")) {
          text += f.body["text"].get<std::string>();
        }
        return true;
      });
    }();
    if (!done) raise(done.error());
    return text;
  }
  server::Client client_;
};

// query() results: the rows, the fields they were asked with.
struct QueryResult {
  std::shared_ptr<const SessionBatch> rows;
  std::vector<FieldId> fields;
};

struct Store {
  std::shared_ptr<Source> source;
  std::string description;
};

QueryResult run_query(Store& s, const std::string& filter, const py::object& time,
                      const std::optional<std::vector<std::string>>& fields, std::uint64_t limit) {
  query::QuerySpec spec;
  spec.where = selection(filter, time);
  spec.fields = output_fields(fields);
  spec.limit = limit;
  QueryResult r;
  r.fields = spec.fields;
  r.rows = std::make_shared<const SessionBatch>(s.source->query(spec));
  return r;
}

py::list fields_list(const std::string& kind) {
  RecordKind k;
  if (kind == "session") {
    k = RecordKind::Session;
  } else if (kind == "flow") {
    k = RecordKind::Flow;
  } else {
    throw py::value_error(fmt::format("kind \"{}\": use \"session\" or \"flow\"", kind));
  }
  py::list out;
  for (FieldId id : fields_of(k)) {
    const FieldInfo& f = field_info(id);
    py::dict d;
    d["name"] = std::string(f.name);
    d["filter"] = std::string(f.filter_name);
    d["type"] = std::string(type_name(f.type));
    d["dtype"] = numpy_type(id);
    d["unit"] = std::string(f.unit);
    d["kind"] = std::string(kind_name(f.kind));
    d["definition"] = definition(f);
    d["description"] = std::string(f.description);
    out.append(d);
  }
  return out;
}

capture::PcapSource open_pcap(const std::string& path) {
  return value_or_raise(capture::PcapSource::open(path));
}

// Hands every packet of `source` to `each` until the end or a read error (returned; empty at
// a clean end).
template <typename Each>
std::string for_each_packet(capture::PcapSource& source, Each&& each) {
  for (;;) {
    auto pkt = source.next();
    if (!pkt) return pkt.error().message;
    if (!pkt->has_value()) return {};
    each(**pkt);
  }
}

// Every flow record in the NetFlow/IPFIX/sFlow datagrams of a pcap (UDP to or from `ports`).
py::list decode_pcap(const std::string& path, const std::vector<std::uint16_t>& ports) {
  auto source = open_pcap(path);
  decode::FlowDecoder decoder(decode::DecoderConfig{});
  FlowBatch batch;
  std::string read_error;
  {
    py::gil_scoped_release release;
    read_error = for_each_packet(source, [&](const capture::CapturedPacket& p) {
      auto udp = extract_udp(source.link_type(), p.data);
      if (!udp) return;
      const bool ours = std::find(ports.begin(), ports.end(), udp->udp.dst_port) != ports.end() ||
                        std::find(ports.begin(), ports.end(), udp->udp.src_port) != ports.end();
      if (ours) decoder.decode({udp->udp.payload, udp->ip.src, p.timestamp}, batch);
    });
    decoder.finish();
  }
  if (!read_error.empty()) raise(Error{ErrorCode::Malformed, read_error});
  const auto fields = fields_of(RecordKind::Flow, true);
  py::list out;
  for (std::size_t r = 0; r < batch.size(); ++r) out.append(flow_row(batch, fields, r));
  return out;
}

// Sessions metered from the packets of a pcap (the probe's flow meter, default timeouts).
QueryResult capture_pcap(const std::string& path) {
  auto source = open_pcap(path);
  capture::FlowMeter meter(capture::MeterConfig{});
  SessionBatch sessions;
  std::string read_error;
  {
    py::gil_scoped_release release;
    read_error = for_each_packet(source, [&](const capture::CapturedPacket& p) {
      meter.add(source.link_type(), p.data, p.wire_length, p.timestamp_ns, sessions);
    });
    meter.flush(sessions);
  }
  if (!read_error.empty()) raise(Error{ErrorCode::Malformed, read_error});
  QueryResult r;
  const auto stored = fields_of(RecordKind::Session, true);
  r.fields.assign(stored.begin(), stored.end());
  r.rows = std::make_shared<const SessionBatch>(std::move(sessions));
  return r;
}

}  // namespace

void bind_store(py::module_& m) {
  m.def("fields", &fields_list, py::arg("kind") = "session",
        "The registry's fields (core/fields.def): name, filter keyword, type, NumPy dtype, ...");

  py::class_<QueryResult>(m, "QueryResult")
      .def("__len__", [](const QueryResult& q) { return q.rows->size(); })
      .def_property_readonly("fields",
                             [](const QueryResult& q) {
                               std::vector<std::string> names;
                               for (FieldId f : q.fields) names.emplace_back(field_info(f).name);
                               return names;
                             })
      .def("__getitem__",
           [](const QueryResult& q, std::int64_t i) {
             const auto n = static_cast<std::int64_t>(q.rows->size());
             if (i < 0) i += n;
             if (i < 0 || i >= n) throw py::index_error("row out of range");
             return batch_row(*q.rows, q.fields, static_cast<std::size_t>(i));
           })
      .def(
          "columns", [](const QueryResult& q) { return batch_columns(q.rows, q.fields); },
          "{field: 1-D array}; numeric and time columns are zero-copy views")
      .def(
          "to_numpy", [](const QueryResult& q) { return batch_structured(q.rows, q.fields); },
          "One structured array, dtypes from the registry");

  py::class_<Store>(m, "Store")
      .def("query", &run_query, py::arg("filter") = "", py::arg("time") = py::none(),
           py::arg("fields") = py::none(), py::arg("limit") = 0)
      .def(
          "stat",
          [](Store& s, const std::string& group, const std::string& count, std::uint64_t top,
             const std::string& direction, const py::object& time, const std::string& filter,
             const std::optional<std::string>& series) {
            return s.source->stat(stat_spec(group, count, top, direction, time, filter, series));
          },
          py::arg("group") = "", py::arg("count") = "bytes", py::arg("top") = 10,
          py::arg("direction") = "both", py::arg("time") = py::none(), py::arg("filter") = "",
          py::arg("series") = py::none())
      .def_readonly("description", &Store::description)
      .def_property_readonly("user",
                             [](const Store& s) -> py::object {
                               auto* remote = dynamic_cast<RemoteSource*>(s.source.get());
                               return remote ? py::object(py::str(remote->client().user()))
                                             : py::object(py::none());
                             })
      .def_property_readonly("key", [](const Store& s) -> py::object {
        auto* remote = dynamic_cast<RemoteSource*>(s.source.get());
        return remote ? py::object(py::str(remote->client().key())) : py::object(py::none());
      });

  m.def(
      "_open",
      [](const std::string& path) {
        store::StoreOptions so;
        so.dir = path;
        so.read_only = true;
        if (!std::filesystem::is_directory(so.dir)) {
          raise(Error{ErrorCode::NotFound,
                      fmt::format("data directory {} does not exist; give a store's directory "
                                  "(see flowscope import)",
                                  path)});
        }
        auto s = value_or_raise(store::EmbeddedStore::open(so));
        return Store{std::make_shared<LocalSource>(std::move(s)), path};
      },
      py::arg("path"));

  m.def(
      "_connect",
      [](const std::string& host, const std::string& user, const std::string& password,
         const std::string& key, bool want_key, bool tls, const std::string& tls_ca,
         bool tls_insecure) {
        server::ClientOptions o;
        o.server = host;
        o.user = user;
        o.password = password;
        o.key = key;
        o.want_key = want_key;
        o.tls = tls;
        o.tls_ca = tls_ca;
        o.tls_insecure = tls_insecure;
        auto client = [&] {
          py::gil_scoped_release release;
          return server::Client::connect(o);
        }();
        if (!client) {
          PyErr_SetString(PyExc_ConnectionError, client.error().message.c_str());
          throw py::error_already_set();
        }
        return Store{std::make_shared<RemoteSource>(std::move(*client)), host};
      },
      py::arg("host"), py::arg("user") = "", py::arg("password") = "", py::arg("key") = "",
      py::arg("want_key") = false, py::arg("tls") = false, py::arg("tls_ca") = "",
      py::arg("tls_insecure") = false);

  m.def("_decode", &decode_pcap, py::arg("pcap"), py::arg("ports"));
  m.def("_capture", &capture_pcap, py::arg("pcap"));
}

}  // namespace flowscope::python
