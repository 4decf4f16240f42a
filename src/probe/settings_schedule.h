#pragma once
// The scheduled settings of a probe configuration file ([[scheduled]] blocks, docs/capture.md
// "CONFIGURATION FILE") as a running probe applies them: a block is due when the clock (packet
// time; wall time on a quiet live link) reaches its start_at, and the file is re-read when it
// changes (hot reload) so that blocks added while the probe runs are picked up too. A reload
// keeps only blocks later than the last one applied: a block never applies twice.
// Used by one probe run, from one thread.
// Internal to flowscope_probe: other modules use its public headers.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "capture/probe_config.h"

namespace flowscope::probe {

class SettingsSchedule {
 public:
  // `path`: the configuration file (empty: no file, nothing to reload); `name`: its name for
  // messages; `blocks`: its [[scheduled]] blocks by start_at.
  SettingsSchedule(std::string path, std::string name,
                   std::vector<capture::ScheduledSettings> blocks);

  // A block waits for its time.
  bool pending() const { return next_ < blocks_.size(); }
  // The next waiting block when its start_at is at or before `now_ms`, marked applied; nullopt
  // otherwise. Call until nullopt to apply every due block in order.
  std::optional<capture::ScheduledSettings> next_due(std::int64_t now_ms);

  // Re-reads the file when its modification time changed, at most once a second of wall time
  // (`wall_ns`, ns since the epoch). Returns the text of a warning when the changed file does
  // not load (the running schedule is kept); nullopt otherwise.
  std::optional<std::string> reload(std::int64_t wall_ns);

  bool has_file() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  std::uint64_t applied() const { return applied_; }
  std::size_t pending_count() const { return blocks_.size() - next_; }

 private:
  std::string path_;
  std::string name_;
  std::vector<capture::ScheduledSettings> blocks_;
  std::size_t next_ = 0;
  std::int64_t last_applied_ms_ = std::numeric_limits<std::int64_t>::min();
  std::uint64_t applied_ = 0;
  std::int64_t mtime_ns_ = -1;
  std::int64_t next_check_ns_ = 0;
};

// The file's modification time in ns since the epoch; -1 when it cannot be read.
std::int64_t file_mtime_ns(const std::string& path);

}  // namespace flowscope::probe
