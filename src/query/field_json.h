#pragma once
// One field of the registry as JSON: what `flowscope fields --json` prints and the HTTP API's
// GET /api/v1/fields answers (name, filter keyword, scope, kind, type, width, unit,
// comparators, IPFIX ids, description; definition and operands for derived fields). Pure; any
// thread.

#include <nlohmann/json.hpp>

#include "core/field_registry.h"

namespace flowscope::query {

nlohmann::json field_json(const FieldInfo& field);

}  // namespace flowscope::query
