#include "store/batch_codec.h"

#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "core/byte_reader.h"

namespace flowscope::store {

std::string encode_batch(const SessionBatch& batch, const ChunkOptions& options) {
  std::string out;
  ByteWriter w(out);
  const auto fields = fields_of(RecordKind::Session, /*stored_only=*/true);
  w.u32(static_cast<std::uint32_t>(batch.size()));
  w.u16(static_cast<std::uint16_t>(fields.size()));
  for (FieldId id : fields) {
    EncodedChunk chunk = encode_column(batch.column(id), 0, batch.size(), options);
    w.str16(field_info(id).name);
    w.u8(static_cast<std::uint8_t>(field_info(id).type));
    w.u32(static_cast<std::uint32_t>(chunk.bytes.size()));
    out += chunk.bytes;
  }
  return out;
}

Result<SessionBatch> decode_batch(std::span<const std::byte> payload) {
  ByteReader r(payload);
  const std::uint32_t rows = r.u32le();
  const std::uint16_t ncols = r.u16le();
  if (r.failed()) return Error{ErrorCode::Corruption, "batch header is truncated"};
  SessionBatch batch(rows);
  batch.add_rows(rows);
  for (std::uint16_t i = 0; i < ncols; ++i) {
    auto name_bytes = r.bytes(r.u16le());
    const auto type = static_cast<FieldType>(r.u8());
    auto chunk = r.bytes(r.u32le());
    if (r.failed()) return Error{ErrorCode::Corruption, "batch column is truncated"};
    std::string_view name(reinterpret_cast<const char*>(name_bytes.data()), name_bytes.size());
    auto id = find_field(RecordKind::Session, name);
    // A column this build does not know (written by a newer registry) is skipped.
    if (!id || SessionBatch::column_index(*id) < 0 || field_info(*id).type != type) continue;
    if (auto d = decode_column(chunk, rows, type, batch.mutable_column(*id)); !d) {
      return Error{ErrorCode::Corruption, fmt::format("column {}: {}", name, d.error().message)};
    }
  }
  return batch;
}

void append_rows(const SessionBatch& src, std::span<const std::uint32_t> rows, SessionBatch& dst,
                 std::span<const FieldId> fields) {
  const std::size_t first = dst.add_rows(rows.size());
  if (fields.empty()) fields = fields_of(RecordKind::Session, /*stored_only=*/true);
  for (FieldId id : fields) {
    const Column& from = src.column(id);
    // A column absent in every row of the source (most of the registry for a given exporter)
    // copies nothing: the rows add_rows() made are absent already.
    if (from.valid_count(src.size()) == 0) continue;
    Column& to = dst.mutable_column(id);
    std::visit(
        [&](auto& out) {
          using D = std::decay_t<decltype(out)>;
          const D& in = *std::get_if<D>(&from.data());
          for (std::size_t i = 0; i < rows.size(); ++i) {
            if constexpr (std::is_same_v<D, StringColumn>) {
              out.set(first + i, in.get(rows[i]));
            } else {
              out[first + i] = in[rows[i]];
            }
          }
        },
        to.data());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (from.valid(rows[i])) to.mark_valid(first + i);
    }
  }
}

void append_all(const SessionBatch& src, SessionBatch& dst) {
  std::vector<std::uint32_t> rows(src.size());
  std::iota(rows.begin(), rows.end(), 0u);
  append_rows(src, rows, dst);
}

}  // namespace flowscope::store
