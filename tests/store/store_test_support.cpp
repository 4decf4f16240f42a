#include "store_test_support.h"

#include <cstdlib>
#include <limits>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/batch_codec.h"

namespace flowscope::store::testing {

TempDir::TempDir() {
  std::string tmpl = "/tmp/flowscope-store-test-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void fill_every_field(SessionBatch& batch, std::size_t row, std::uint64_t variant,
                      std::int64_t start_ms) {
  std::mt19937_64 rng(variant * 7919 + row);
  for (FieldId id : fields_of(RecordKind::Session, /*stored_only=*/true)) {
    Column& col = batch.mutable_column(id);
    std::visit(
        [&](auto& data) {
          using D = std::decay_t<decltype(data)>;
          if constexpr (std::is_same_v<D, StringColumn>) {
            static const std::string kLong(300, 'x');
            const std::string values[] = {"", kLong, "Brussels", "Z\xc3\xbcrich", "a,b\"c"};
            data.set(row, variant == 0   ? values[0]
                          : variant == 1 ? values[1]
                                         : values[2 + rng() % 3]);
          } else {
            using T = typename D::value_type;
            if constexpr (std::is_same_v<T, IpAddress>) {
              if (variant == 0) {
                data[row] = IpAddress();
              } else if (variant == 1) {
                data[row] = IpAddress::from_u64(~0ULL, ~0ULL);
              } else {
                data[row] = rng() % 2 ? IpAddress::v4(static_cast<std::uint32_t>(rng()))
                                      : IpAddress::from_u64(rng(), rng());
              }
            } else if constexpr (std::is_same_v<T, CountryCode>) {
              data[row] = CountryCode{
                  {static_cast<char>('A' + variant % 26), static_cast<char>('Z' - rng() % 26)}};
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              data[row] = variant == 0   ? std::numeric_limits<std::int64_t>::min()
                          : variant == 1 ? std::numeric_limits<std::int64_t>::max()
                                         : start_ms + static_cast<std::int64_t>(rng() % 100000);
            } else {
              data[row] = variant == 0   ? T{0}
                          : variant == 1 ? std::numeric_limits<T>::max()
                                         : static_cast<T>(rng());
            }
          }
        },
        col.data());
    col.mark_valid(row);
  }
}

SessionBatch make_sessions(std::uint64_t first_id, std::size_t rows, std::int64_t start_ms,
                           std::int64_t step_ms) {
  SessionBatch b(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t r = b.add_row();
    const std::uint64_t id = first_id + i;
    b.set<FieldId::SessionId>(r, id);
    b.set<FieldId::StartTime>(r, start_ms + static_cast<std::int64_t>(i) * step_ms);
    b.set<FieldId::EndTime>(r, start_ms + static_cast<std::int64_t>(i) * step_ms + 250);
    b.set<FieldId::ClnAddr>(r, IpAddress::v4(0x0A000000u + static_cast<std::uint32_t>(id % 50)));
    b.set<FieldId::SrvAddr>(r, IpAddress::v4(0xC0A80000u + static_cast<std::uint32_t>(id % 7)));
    b.set<FieldId::ClnPort>(r, static_cast<std::uint16_t>(1024 + id % 60000));
    b.set<FieldId::SrvPort>(r, static_cast<std::uint16_t>(id % 3 == 0 ? 443 : 53));
    b.set<FieldId::Proto>(r, static_cast<std::uint8_t>(id % 3 == 0 ? 6 : 17));
    b.set<FieldId::ClnBytes>(r, 100 + id % 1000);
    b.set<FieldId::SrvBytes>(r, 1000 + id % 5000);
    b.set<FieldId::ClnPackets>(r, 1 + id % 10);
    b.set<FieldId::SrvPackets>(r, 2 + id % 20);
    b.set<FieldId::Application>(r, id % 3 == 0 ? "https" : "dns");
  }
  return b;
}

SessionBatch scan_all(const Backend& backend, const ScanRequest& request, ScanStats* stats) {
  SessionBatch all;
  auto result = backend.scan(request, [&](const SessionBatch& b) {
    append_all(b, all);
    return true;
  });
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
  if (result && stats != nullptr) *stats = *result;
  return all;
}

std::string compare_rows(const SessionBatch& a, std::size_t ra, const SessionBatch& b,
                         std::size_t rb) {
  for (FieldId id : fields_of(RecordKind::Session, /*stored_only=*/true)) {
    const Column& ca = a.column(id);
    const Column& cb = b.column(id);
    if (ca.valid(ra) != cb.valid(rb)) {
      return fmt::format("{}: presence {} vs {}", field_info(id).name, ca.valid(ra), cb.valid(rb));
    }
    const bool equal = std::visit(
        [&](const auto& da) {
          using D = std::decay_t<decltype(da)>;
          const D& db = *std::get_if<D>(&cb.data());
          if constexpr (std::is_same_v<D, StringColumn>) {
            return da.get(ra) == db.get(rb);
          } else {
            return da[ra] == db[rb];
          }
        },
        ca.data());
    if (!equal) return fmt::format("{}: values differ (row {} vs {})", field_info(id).name, ra, rb);
  }
  return "";
}

}  // namespace flowscope::store::testing
