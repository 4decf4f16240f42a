#include "probe/settings_schedule.h"

#include <sys/stat.h>

#include <utility>

namespace flowscope::probe {

std::int64_t file_mtime_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

SettingsSchedule::SettingsSchedule(std::string path, std::string name,
                                   std::vector<capture::ScheduledSettings> blocks)
    : path_(std::move(path)), name_(std::move(name)), blocks_(std::move(blocks)) {
  if (!path_.empty()) mtime_ns_ = file_mtime_ns(path_);
}

std::optional<capture::ScheduledSettings> SettingsSchedule::next_due(std::int64_t now_ms) {
  if (!pending() || to_ms(blocks_[next_].start_at) > now_ms) return std::nullopt;
  const capture::ScheduledSettings& block = blocks_[next_++];
  last_applied_ms_ = to_ms(block.start_at);
  ++applied_;
  return block;
}

std::optional<std::string> SettingsSchedule::reload(std::int64_t wall_ns) {
  if (path_.empty() || wall_ns < next_check_ns_) return std::nullopt;
  next_check_ns_ = wall_ns + 1'000'000'000;
  const std::int64_t mtime = file_mtime_ns(path_);
  if (mtime == mtime_ns_) return std::nullopt;
  mtime_ns_ = mtime;
  auto loaded = capture::load_probe_config(path_);
  if (!loaded) return loaded.error().message + "; keeping the running configuration";
  blocks_.clear();
  for (const capture::ScheduledSettings& block : loaded->scheduled) {
    if (to_ms(block.start_at) > last_applied_ms_) blocks_.push_back(block);
  }
  next_ = 0;
  return std::nullopt;
}

}  // namespace flowscope::probe
