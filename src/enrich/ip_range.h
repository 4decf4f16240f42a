#pragma once
// Address ranges as written in IP group files: "10.0.0.0/8", "10.1.5.10-10.1.5.20" (an
// inclusive range, split into the fewest CIDRs that cover it exactly) or a single address.
// Pure functions; any thread.
// Internal to flowscope_enrich: other modules use its public headers.

#include <string_view>
#include <vector>

#include "core/cidr.h"
#include "core/result.h"

namespace flowscope::enrich {

// The CIDRs that cover [first, last] exactly. REQUIRES: both of one family, first <= last.
std::vector<Cidr> range_to_cidrs(const IpAddress& first, const IpAddress& last);

// Parses one item: CIDR (host bits must be clear), "A-B" (spaces allowed around '-') or an
// address. Appends to `out`.
Result<void> parse_address_item(std::string_view text, std::vector<Cidr>& out);

}  // namespace flowscope::enrich
