// libFuzzer target: flow-tools files (`flowscope import` of *.ft, import/flowtools_reader.h).
// Any bytes give rows or counted skips and an error, never a crash, a hang or an unbounded
// allocation. The reader opens a path, so the input is handed over as an in-memory file.
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <unistd.h>

#include "import/flowtools_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = ::memfd_create("ft", 0);
  if (fd < 0) return 0;
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  auto reader = flowscope::import::FlowtoolsReader::open("/proc/self/fd/" + std::to_string(fd));
  if (reader) {
    flowscope::SessionBatch batch;
    std::size_t rounds = 0;
    while (reader->read(batch, 256)) {
      if (batch.size() > 256 * (rounds + 1)) __builtin_trap();  // read() honours max_rows
      ++rounds;
      batch = flowscope::SessionBatch();
    }
  }
  ::close(fd);
  return 0;
}
