#include "store/group_key.h"

#include <type_traits>
#include <variant>

namespace flowscope::store {

void append_group_key(const SessionBatch& batch, std::size_t row, std::span<const FieldId> group_by,
                      std::int64_t bucket, std::string& key) {
  key.clear();
  for (FieldId id : group_by) {
    const Column& col = batch.column(id);
    if (!col.valid(row)) {
      key.push_back('\0');
      continue;
    }
    key.push_back('\1');
    std::visit(
        [&](const auto& data) {
          using D = std::decay_t<decltype(data)>;
          if constexpr (std::is_same_v<D, StringColumn>) {
            std::string_view s = data.get(row);
            const auto n = static_cast<std::uint32_t>(s.size());
            key.append(reinterpret_cast<const char*>(&n), sizeof n);
            key.append(s);
          } else {
            key.append(reinterpret_cast<const char*>(&data[row]), sizeof data[row]);
          }
        },
        col.data());
  }
  key.append(reinterpret_cast<const char*>(&bucket), sizeof bucket);
}

}  // namespace flowscope::store
