// Server::metrics_text: the /metrics page (docs/serve.md "Metrics" lists every family).
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "clickhouse/clickhouse_backend.h"
#include "server/schedule_service.h"
#include "server/server.h"

namespace flowscope::server {
namespace {

// The ClickHouse backend's writes (docs/scale-out.md "Writes, failures, replay"): rows per
// shard, refused inserts per shard, blocks spilled and replayed, what waits, retention.
void clickhouse_metrics(const clickhouse::ClickHouseBackend& ch, MetricsWriter& w) {
  const clickhouse::ClickHouseBackend::Stats s = ch.stats();
  w.family("flowscope_clickhouse_rows_inserted_total", "counter",
           "session rows inserted into each ClickHouse shard (replays included)");
  for (std::size_t i = 0; i < s.shard_rows_inserted.size(); ++i) {
    const std::string shard = std::to_string(i);
    w.sample("flowscope_clickhouse_rows_inserted_total",
             static_cast<double>(s.shard_rows_inserted[i]), {{"shard", shard}});
  }
  w.family("flowscope_clickhouse_insert_errors_total", "counter",
           "inserts a ClickHouse shard refused or did not answer (their blocks spill)");
  for (std::size_t i = 0; i < s.insert_errors.size(); ++i) {
    const std::string shard = std::to_string(i);
    w.sample("flowscope_clickhouse_insert_errors_total", static_cast<double>(s.insert_errors[i]),
             {{"shard", shard}});
  }
  w.family("flowscope_clickhouse_blocks_spilled_total", "counter",
           "insert blocks written to the spill queue");
  w.sample("flowscope_clickhouse_blocks_spilled_total", static_cast<double>(s.blocks_spilled));
  w.family("flowscope_clickhouse_blocks_replayed_total", "counter",
           "spilled blocks replayed (or found already inserted) when their shard came back");
  w.sample("flowscope_clickhouse_blocks_replayed_total", static_cast<double>(s.blocks_replayed));
  w.family("flowscope_clickhouse_blocks_already_present_total", "counter",
           "spilled blocks a shard already held (an insert whose answer was lost): not again");
  w.sample("flowscope_clickhouse_blocks_already_present_total",
           static_cast<double>(s.blocks_already_present));
  w.family("flowscope_clickhouse_spilled_blocks", "gauge", "blocks waiting in the spill queues");
  w.sample("flowscope_clickhouse_spilled_blocks", static_cast<double>(s.blocks_spilled_now));
  w.family("flowscope_clickhouse_spilled_rows", "gauge", "rows waiting in the spill queues");
  w.sample("flowscope_clickhouse_spilled_rows", static_cast<double>(s.rows_spilled_now));
  w.family("flowscope_clickhouse_pending_rows", "gauge", "rows buffered for the next insert");
  w.sample("flowscope_clickhouse_pending_rows", static_cast<double>(s.rows_pending));
  w.family("flowscope_clickhouse_retention_runs_total", "counter",
           "retention passes over the cluster (store.json's keep, every hour)");
  w.sample("flowscope_clickhouse_retention_runs_total", static_cast<double>(s.retention_runs));
  w.family("flowscope_clickhouse_retention_dropped_partitions_total", "counter",
           "day partitions retention dropped, summed over tables (raw and rollup levels)");
  w.sample("flowscope_clickhouse_retention_dropped_partitions_total",
           static_cast<double>(s.partitions_dropped));
}

// The standard process_* families of Prometheus' client libraries (Linux: /proc/self).
void write_process_metrics(MetricsWriter& w) {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    w.family("process_cpu_seconds_total", "counter", "user and system CPU time spent, seconds");
    w.sample("process_cpu_seconds_total", cpu);
  }
  const long page = ::sysconf(_SC_PAGESIZE);
  std::ifstream statm("/proc/self/statm");
  if (double size = 0, resident = 0; statm >> size >> resident) {
    w.family("process_virtual_memory_bytes", "gauge", "virtual memory size, bytes");
    w.sample("process_virtual_memory_bytes", size * static_cast<double>(page));
    w.family("process_resident_memory_bytes", "gauge", "resident memory size, bytes");
    w.sample("process_resident_memory_bytes", resident * static_cast<double>(page));
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    w.family("process_open_fds", "gauge", "open file descriptors");
    w.sample("process_open_fds", static_cast<double>(fds));
  }
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    w.family("process_max_fds", "gauge", "maximum number of open file descriptors");
    w.sample("process_max_fds", static_cast<double>(limit.rlim_cur));
  }
  // Start time: field 22 of /proc/self/stat (clock ticks after boot) plus btime of /proc/stat.
  std::ifstream stat_file("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(stat_file)),
                         std::istreambuf_iterator<char>());
  const auto close_paren = stat.rfind(')');
  std::ifstream proc_stat("/proc/stat");
  double boot_time = 0;
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
  }
  if (close_paren != std::string::npos && boot_time > 0) {
    std::istringstream fields(stat.substr(close_paren + 2));
    std::string field;
    // After "pid (comm) ", field 3 (state) is the first; start time is field 22.
    for (int i = 3; i <= 22 && fields >> field; ++i) {
    }
    if (fields) {
      const double ticks = std::stod(field);
      w.family("process_start_time_seconds", "gauge", "start time since the Unix epoch, seconds");
      w.sample("process_start_time_seconds",
               boot_time + ticks / static_cast<double>(::sysconf(_SC_CLK_TCK)));
    }
  }
}

}  // namespace

std::string Server::metrics_text() const {
  MetricsWriter w;
  const IngestStats in = ingest_ ? ingest_->stats() : IngestStats{};
  const PipelineStats p = pipeline_->stats();

  w.family("flowscope_ingest_datagrams_total", "counter", "UDP datagrams received, per socket");
  for (const SocketStats& s : in.sockets) {
    w.sample("flowscope_ingest_datagrams_total", static_cast<double>(s.datagrams),
             {{"endpoint", s.endpoint}});
  }
  w.family("flowscope_ingest_bytes_total", "counter", "UDP payload bytes received, per socket");
  for (const SocketStats& s : in.sockets) {
    w.sample("flowscope_ingest_bytes_total", static_cast<double>(s.bytes),
             {{"endpoint", s.endpoint}});
  }
  w.family("flowscope_ingest_records_total", "counter", "flow records decoded, per exporter");
  for (const auto& [exporter, e] : in.exporters) {
    const std::string ex = fmt::format("{}", exporter);
    w.sample("flowscope_ingest_records_total", static_cast<double>(e.decode.records),
             {{"exporter", ex}});
  }
  w.family("flowscope_ingest_packets_total", "counter", "export packets decoded, per exporter");
  for (const auto& [exporter, e] : in.exporters) {
    const std::string ex = fmt::format("{}", exporter);
    w.sample("flowscope_ingest_packets_total", static_cast<double>(e.decode.packets),
             {{"exporter", ex}});
  }
  w.family("flowscope_drops_total", "counter",
           "everything dropped before the store, by kind (socket: kernel receive buffer, "
           "queue: pipeline behind, decode: malformed input; socket and decode count datagrams "
           "or sets, queue counts records)");
  w.sample("flowscope_drops_total", static_cast<double>(in.kernel_drops), {{"kind", "socket"}});
  w.sample("flowscope_drops_total", static_cast<double>(in.queue_drops), {{"kind", "queue"}});
  w.sample("flowscope_drops_total", static_cast<double>(in.decode_drops), {{"kind", "decode"}});
  w.sample("flowscope_drops_total", static_cast<double>(p.sessions_lost), {{"kind", "store"}});
  w.family("flowscope_socket_drops_total", "counter",
           "datagrams the kernel dropped (SO_RXQ_OVFL), per listening endpoint");
  for (const SocketStats& s : in.sockets) {
    w.sample("flowscope_socket_drops_total", static_cast<double>(s.kernel_drops),
             {{"endpoint", s.endpoint}});
  }
  w.family("flowscope_queue_drops_total", "counter",
           "records dropped because the pipeline queue was full, per exporter");
  for (const auto& [exporter, e] : in.exporters) {
    const std::string ex = fmt::format("{}", exporter);
    w.sample("flowscope_queue_drops_total", static_cast<double>(e.queue_drops), {{"exporter", ex}});
  }
  w.family("flowscope_decode_errors_total", "counter",
           "malformed input dropped by the decoders, per exporter and kind (docs/decode.md)");
  for (const auto& [exporter, e] : in.exporters) {
    const std::string ex = fmt::format("{}", exporter);
    for (std::size_t k = 0; k < decode::kDecodeErrorCount; ++k) {
      if (e.decode.errors[k] == 0) continue;
      const auto kind = decode::decode_error_name(static_cast<decode::DecodeError>(k));
      w.sample("flowscope_decode_errors_total", static_cast<double>(e.decode.errors[k]),
               {{"exporter", ex}, {"kind", kind}});
    }
  }
  w.family("flowscope_sequence_gaps_total", "counter",
           "export sequence numbers that skipped (loss or reordering upstream), per exporter");
  for (const auto& [exporter, e] : in.exporters) {
    const std::string ex = fmt::format("{}", exporter);
    w.sample("flowscope_sequence_gaps_total", static_cast<double>(e.decode.sequence_gaps),
             {{"exporter", ex}});
  }
  w.family("flowscope_exporter_restarts_total", "counter", "exporter restarts detected");
  for (const auto& [exporter, e] : in.exporters) {
    const std::string ex = fmt::format("{}", exporter);
    w.sample("flowscope_exporter_restarts_total", static_cast<double>(e.decode.restarts),
             {{"exporter", ex}});
  }
  w.family("flowscope_uptime_wraps_total", "counter",
           "IPFIX uptime-relative times read modulo 2^32 (before the exporter's systemInitTime)");
  for (const auto& [exporter, e] : in.exporters) {
    w.sample("flowscope_uptime_wraps_total", static_cast<double>(e.decode.uptime_wraps),
             {{"exporter", fmt::format("{}", exporter)}});
  }
  w.family("flowscope_templates", "gauge", "NetFlow v9/IPFIX templates cached (all workers)");
  w.sample("flowscope_templates", static_cast<double>(in.templates));
  w.family("flowscope_ingest_workers", "gauge", "receive workers");
  w.sample("flowscope_ingest_workers", in.workers);
  w.family("flowscope_queue_batches", "gauge", "batches waiting between decode and stitch");
  w.sample("flowscope_queue_batches", static_cast<double>(p.queued_batches));

  w.family("flowscope_stitch_shards", "gauge", "stitch/enrich/store shards");
  w.sample("flowscope_stitch_shards", p.shards);
  w.family("flowscope_backpressure_waits_total", "counter",
           "hand-overs that waited for a full shard queue (receive workers slowed down)");
  w.sample("flowscope_backpressure_waits_total", static_cast<double>(p.backpressure_waits));
  w.family("flowscope_flow_log_records_total", "counter", "raw-flow log records written");
  w.sample("flowscope_flow_log_records_total", static_cast<double>(p.log_records));
  w.family("flowscope_flow_log_bytes_total", "counter", "raw-flow log bytes written");
  w.sample("flowscope_flow_log_bytes_total", static_cast<double>(p.log_bytes));
  w.family("flowscope_flow_log_disk_bytes", "gauge",
           "raw-flow log bytes on disk (files behind every shard's checkpoint are deleted)");
  w.sample("flowscope_flow_log_disk_bytes", static_cast<double>(p.log_disk_bytes));
  w.family("flowscope_flow_log_files_deleted_total", "counter",
           "raw-flow log files deleted behind the checkpoints");
  w.sample("flowscope_flow_log_files_deleted_total", static_cast<double>(p.log_files_deleted));
  w.family("flowscope_flow_log_errors_total", "counter",
           "raw-flow log appends that failed (those flows were stitched but not durable)");
  w.sample("flowscope_flow_log_errors_total", static_cast<double>(p.log_errors));
  w.family("flowscope_flow_log_found_flows", "gauge", "flows in the raw-flow log at start");
  w.sample("flowscope_flow_log_found_flows", static_cast<double>(p.log_found_flows));
  w.family("flowscope_flow_log_replayed_flows", "gauge",
           "flows the start-up replay gave the stitchers (sessions open at the last checkpoint "
           "and later records)");
  w.sample("flowscope_flow_log_replayed_flows", static_cast<double>(p.replayed_flows));
  w.family("flowscope_flow_log_replayed_duplicates", "gauge",
           "sessions the replay stitched again that the store already had (not stored twice)");
  w.sample("flowscope_flow_log_replayed_duplicates", static_cast<double>(p.replayed_duplicates));
  w.family("flowscope_stitch_flows_total", "counter", "flow records stitched");
  w.sample("flowscope_stitch_flows_total", static_cast<double>(p.flows));
  w.family("flowscope_stitch_open_sessions", "gauge", "sessions open in the stitch window");
  w.sample("flowscope_stitch_open_sessions", static_cast<double>(p.open_sessions));
  w.family("flowscope_stitch_window_bytes", "gauge", "memory of the stitch window");
  w.sample("flowscope_stitch_window_bytes", static_cast<double>(p.stitch_memory));
  w.family("flowscope_stitch_window_seconds", "gauge", "idle time that closes a session");
  w.sample("flowscope_stitch_window_seconds", static_cast<double>(p.window_ms) / 1000.0);
  w.family("flowscope_stitch_closed_capacity_total", "counter",
           "sessions closed early because the window was full");
  w.sample("flowscope_stitch_closed_capacity_total", static_cast<double>(p.closed_capacity));
  w.family("flowscope_sessions_stored_total", "counter", "sessions appended to the store");
  w.sample("flowscope_sessions_stored_total", static_cast<double>(p.sessions));
  w.family("flowscope_store_errors_total", "counter", "store appends that failed");
  w.sample("flowscope_store_errors_total", static_cast<double>(p.store_errors));
  w.family("flowscope_store_orphaned_segments_total", "counter",
           "segments the checkpoint did not reference, moved to DATADIR/orphans/ at open "
           "(flowscope store repair brings them back)");
  w.sample("flowscope_store_orphaned_segments_total",
           static_cast<double>(store_ ? store_->recovery().orphaned_segments : 0));

  if (ch_ != nullptr) clickhouse_metrics(*ch_, w);

  const AuthStats a = auth_->stats();
  w.family("flowscope_logins_total", "counter", "query logins by result");
  w.sample("flowscope_logins_total", static_cast<double>(a.logins_ok), {{"result", "ok"}});
  w.sample("flowscope_logins_total", static_cast<double>(a.logins_failed), {{"result", "failed"}});
  w.sample("flowscope_logins_total", static_cast<double>(a.throttled), {{"result", "throttled"}});
  w.family("flowscope_session_keys", "gauge", "session keys held");
  w.sample("flowscope_session_keys", static_cast<double>(a.keys_active));
  w.family("flowscope_session_keys_revoked_total", "counter",
           "session keys revoked because their user changed or was removed (users reload)");
  w.sample("flowscope_session_keys_revoked_total", static_cast<double>(a.keys_revoked));
  w.family("flowscope_auth_throttle_evictions_total", "counter",
           "entries the login throttling tables forgot at their cap (65536 addresses, 65536 "
           "names), by table and reason (lock_passed, quiet, locked)");
  for (const auto& [table, counts] :
       {std::pair{"address", a.address_evictions}, std::pair{"user", a.user_evictions}}) {
    for (std::size_t r = 0; r < kThrottleEvictionCount; ++r) {
      w.sample(
          "flowscope_auth_throttle_evictions_total", static_cast<double>(counts[r]),
          {{"table", table}, {"reason", throttle_eviction_name(static_cast<ThrottleEviction>(r))}});
    }
  }
  const QueryServerStats q = query_->stats();
  w.family("flowscope_query_requests_total", "counter", "query protocol requests");
  w.sample("flowscope_query_requests_total", static_cast<double>(q.requests));
  w.family("flowscope_query_tls_handshakes_total", "counter",
           "TLS on the query port: handshakes by result (failed includes plain clients refused "
           "by tls_required)");
  w.sample("flowscope_query_tls_handshakes_total", static_cast<double>(q.tls), {{"result", "ok"}});
  w.sample("flowscope_query_tls_handshakes_total", static_cast<double>(q.tls_failed),
           {{"result", "failed"}});
  w.family("flowscope_query_connections", "gauge", "open query connections");
  w.sample("flowscope_query_connections", static_cast<double>(q.active));
  w.family("flowscope_query_connections_rejected_total", "counter",
           "query connections refused or closed before their session, by reason ([query] "
           "allow, max_connections_per_address, max_connections, admin_reserved_connections, "
           "handshake_timeout; evicted: waiting for its login when the server was full)");
  for (std::size_t r = 0; r < kRejectionCount; ++r) {
    w.sample("flowscope_query_connections_rejected_total", static_cast<double>(q.rejected[r]),
             {{"reason", rejection_name(static_cast<Rejection>(r))}});
  }
  w.family("flowscope_query_latency_seconds", "histogram", "query request latency");
  w.histogram("flowscope_query_latency_seconds", query_latency_);
  w.family("flowscope_http_latency_seconds", "histogram",
           "HTTP API and Scrutinizer request latency (docs/http.md)");
  w.histogram("flowscope_http_latency_seconds", http_latency_);

  w.family("flowscope_config_generation", "gauge", "configurations applied since start");
  w.sample("flowscope_config_generation", static_cast<double>(generation_.load()));
  w.family("flowscope_up", "gauge", "1 while healthy");
  w.sample("flowscope_up", healthy() ? 1 : 0);
  if (schedule_) schedule_->metrics(w);
  w.family("flowscope_build_info", "gauge", "always 1; the version of the running server");
  w.sample("flowscope_build_info", 1, {{"version", FLOWSCOPE_SERVER_VERSION}});
  write_process_metrics(w);
  return w.text();
}

}  // namespace flowscope::server
