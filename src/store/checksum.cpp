// XXH3-64: fast enough to verify every chunk on every read (docs/storage.md "Checksums").
#include <xxhash.h>

#include "store/format.h"

namespace flowscope::store {

std::uint64_t checksum(std::span<const std::byte> data) {
  return XXH3_64bits(data.data(), data.size());
}

}  // namespace flowscope::store
