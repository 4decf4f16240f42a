// GET /api/v1/openapi.json: the OpenAPI 3 document, generated from the route table (paths,
// parameters, who may call) and the field registry (the Session schema, field-name enums), so
// that the document cannot drift from what the server answers.
#include <fmt/format.h>

#include "core/field_registry.h"
#include "server/http_server.h"

namespace flowscope::server {
namespace {

nlohmann::json field_schema(const FieldInfo& f) {
  nlohmann::json s;
  switch (f.type) {
    case FieldType::U8:
    case FieldType::U16:
    case FieldType::U32:
    case FieldType::U64:
    case FieldType::Duration: s["type"] = "integer"; break;
    default: s["type"] = "string"; break;
  }
  if (f.type == FieldType::Time) s["format"] = "date-time";
  if (f.type == FieldType::Ip) s["format"] = "ip-address";
  s["description"] = f.description;
  if (!f.unit.empty()) s["x-unit"] = f.unit;
  if (!f.filter_name.empty()) s["x-filter-keyword"] = f.filter_name;
  return s;
}

nlohmann::json session_names() {
  nlohmann::json names = nlohmann::json::array();
  for (const FieldInfo& f : kFieldTable) {
    if (in_kind(f, RecordKind::Session)) names.push_back(f.name);
  }
  return names;
}

nlohmann::json components() {
  nlohmann::json session = {{"type", "object"}, {"properties", nlohmann::json::object()}};
  for (const FieldInfo& f : kFieldTable) {
    if (in_kind(f, RecordKind::Session))
      session["properties"][std::string(f.name)] = field_schema(f);
  }
  const nlohmann::json object = {{"type", "object"}};
  nlohmann::json c;
  c["schemas"] = {
      {"Error",
       {{"type", "object"},
        {"properties",
         {{"error",
           {{"type", "object"},
            {"required", {"code", "message"}},
            {"properties",
             {{"code", {{"type", "string"}}},
              {"message", {{"type", "string"}}},
              {"position",
               {{"type", "integer"}, {"description", "byte offset in the filter or input"}}},
              {"hint", {{"type", "string"}}}}}}}}}}},
      {"Session", session},
      {"FieldName", {{"type", "string"}, {"enum", session_names()}}},
      {"Sessions",
       {{"type", "object"},
        {"properties",
         {{"fields", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/FieldName"}}}}},
          {"rows", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/Session"}}}}},
          {"next_cursor", {{"type", "string"}, {"nullable", true}}}}}}},
      {"Stat", object},
      {"Fields", object},
      {"Login",
       {{"type", "object"},
        {"properties",
         {{"key", {{"type", "string"}}},
          {"user", {{"type", "string"}}},
          {"role", {{"type", "string"}}},
          {"csrf",
           {{"type", "string"},
            {"description",
             "with \"cookie\": true: the key is in the flowscope_key cookie "
             "and this goes into X-CSRF-Token"}}},
          {"idle_expiry_s", {{"type", "integer"}}}}}}},
      {"Me", object},
      {"Ok", object},
      {"Health", object},
      {"Exporters", object},
      {"IpInfo", object},
      {"OpenApi", object},
      {"Users", object},
      {"Reports", object},
      {"Groups", object},
      {"Tokens", object},
      {"Token", object},
      {"Scrutinizer", object},
      {"Text", {{"type", "string"}}},
  };
  c["securitySchemes"] = {
      {"bearer",
       {{"type", "http"},
        {"scheme", "bearer"},
        {"description", "a session key (POST /api/v1/login) or an API token (fst_...)"}}},
      {"authToken", {{"type", "apiKey"}, {"in", "query"}, {"name", "authToken"}}},
      {"cookie",
       {{"type", "apiKey"},
        {"in", "cookie"},
        {"name", "flowscope_key"},
        {"description",
         "the dashboard's session key (POST /api/v1/login with \"cookie\": "
         "true); requests other than GET need X-CSRF-Token"}}}};
  return c;
}

std::string_view access_name(Access a) {
  switch (a) {
    case Access::Public: return "anyone within [http] allow";
    case Access::Metrics: return "anyone while [http] metrics_public, else admins";
    case Access::User: return "any user";
    case Access::Admin: return "admins";
    case Access::Scrutinizer: return "an API token (authToken) or session key";
  }
  return "";
}

}  // namespace

nlohmann::json openapi_document(const std::vector<Route>& routes) {
  nlohmann::json doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = {{"title", "flowscope"},
                 {"version", FLOWSCOPE_SERVER_VERSION},
                 {"description", "The HTTP API of flowscope serve (docs/http.md)."}};
  doc["paths"] = nlohmann::json::object();
  for (const Route& r : routes) {
    nlohmann::json op;
    op["summary"] = r.summary;
    op["description"] = fmt::format("Who may call it: {}.", access_name(r.access));
    nlohmann::json params = nlohmann::json::array();
    nlohmann::json body_props = nlohmann::json::object();
    nlohmann::json body_required = nlohmann::json::array();
    for (const RouteParam& p : r.params) {
      nlohmann::json schema = {{"type", p.type}};
      if (!p.choices.empty()) schema["enum"] = p.choices;
      if (p.in == "body") {
        body_props[std::string(p.name)] = schema;
        if (p.required) body_required.push_back(p.name);
        continue;
      }
      params.push_back({{"name", p.name},
                        {"in", p.in},
                        {"required", p.required || p.in == "path"},
                        {"description", p.description},
                        {"schema", std::move(schema)}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (!body_props.empty()) {
      nlohmann::json schema = {{"type", "object"}, {"properties", body_props}};
      if (!body_required.empty()) schema["required"] = body_required;
      op["requestBody"] = {{"content",
                            {{"application/json", {{"schema", schema}}},
                             {"application/x-www-form-urlencoded", {{"schema", schema}}}}}};
    }
    const std::string ref = fmt::format("#/components/schemas/{}", r.response);
    op["responses"] = {
        {"200",
         {{"description", "ok"},
          {"content", {{"application/json", {{"schema", {{"$ref", ref}}}}}}}}},
        {"400",
         {{"description", "bad input"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}};
    if (r.access != Access::Public) {
      op["responses"]["401"] = {{"description", "no or bad credentials"}};
      op["security"] = nlohmann::json::array({{{"bearer", nlohmann::json::array()}},
                                              {{"authToken", nlohmann::json::array()}},
                                              {{"cookie", nlohmann::json::array()}}});
    }
    if (r.access == Access::Admin) op["responses"]["403"] = {{"description", "not an admin"}};
    std::string method(r.method);
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    doc["paths"][r.path][method] = std::move(op);
  }
  doc["components"] = components();
  return doc;
}

}  // namespace flowscope::server
