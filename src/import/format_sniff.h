#pragma once
// Which flow file format a file is, from its first bytes (docs/storage.md "Import"): flow-tools
// (magic 0xCF 0x10), nfdump's nfcapd (its magic, import/nfcapd_reader.h) or CSV (text: no
// control bytes but tab, CR and LF; an empty file counts as CSV, whose reader then names what is
// missing). Anything else is an error naming the formats that are recognised. Pure functions;
// any thread.
// Internal to flowscope_import: other modules use its public headers.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace flowscope::import {

enum class ImportFormat : std::uint8_t { Csv, Flowtools, Nfcapd };

std::string_view import_format_name(ImportFormat format);

// How many leading bytes sniff_format looks at (fewer when the file is shorter).
inline constexpr std::size_t kSniffBytes = 4096;

// The format of a file whose first bytes are `head`; `name` is used in the error.
Result<ImportFormat> sniff_format(std::span<const std::byte> head, std::string_view name);
// The same for the file at `path` (an error when it cannot be opened).
Result<ImportFormat> sniff_file(const std::string& path);

}  // namespace flowscope::import
