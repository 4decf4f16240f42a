// Admin routes of the JSON API (/api/v1/admin/..., docs/http.md): users, groups and their data
// permissions, API tokens. Each change goes through AuthService::edit_users (the user file is
// read, changed, written and reloaded under one lock, so keys of changed users are revoked as
// at SIGHUP) and is written to the audit log with the admin's name and address.
#include <fmt/format.h>
#include <httplib.h>

#include "server/http_server.h"
#include "server/server.h"

namespace flowscope::server {
namespace {

nlohmann::json json_body(const HttpCall& call) {
  if (call.request.get_header_value("Content-Type").find("json") != std::string::npos) {
    auto j = nlohmann::json::parse(call.request.body, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : call.params) j[k] = v;
  return j;
}

Result<std::string> string_field(const nlohmann::json& body, std::string_view name) {
  if (!body.is_object() || !body.contains(name) || !body[std::string(name)].is_string()) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("the body has no string \"{}\"; send JSON such as {{\"{}\": ...}}",
                             name, name)};
  }
  return body[std::string(name)].get<std::string>();
}

nlohmann::json user_json(const User& u) {
  return {{"id", u.id}, {"name", u.name}, {"role", role_name(u.role)}, {"groups", u.groups}};
}

nlohmann::json group_json(const GroupPerms& g) {
  nlohmann::json exporters = nlohmann::json::array();
  for (const IpAddress& e : g.exporters) exporters.push_back(fmt::format("{}", e));
  nlohmann::json interfaces = nlohmann::json::array();
  for (const InterfaceGrant& i : g.interfaces) {
    interfaces.push_back(fmt::format("{}:{}", i.exporter, i.if_index));
  }
  return {{"id", g.id},
          {"name", g.name},
          {"ip_groups", g.ip_groups},
          {"exporters", exporters},
          {"interfaces", interfaces},
          {"restricted", g.restricted}};
}

// Runs `change` on the user file and audits it.
Result<HttpReply> edit(Server& s, HttpCall& call, std::string_view event, std::string detail,
                       const std::function<Result<void>(UserDb&)>& change,
                       nlohmann::json answer = {{"ok", true}}) {
  if (auto r = s.auth().edit_users(change); !r) return r.error();
  s.auth().audit(event, call.principal->user, call.peer, detail);
  return HttpReply{200, std::move(answer)};
}

Result<GrantKind> grant_kind(const nlohmann::json& body, std::string& value) {
  for (const auto& [key, kind] :
       {std::pair{"ip_group", GrantKind::IpGroup}, std::pair{"exporter", GrantKind::Exporter},
        std::pair{"interface", GrantKind::Interface}}) {
    if (body.is_object() && body.contains(key) && body[key].is_string()) {
      value = body[key].get<std::string>();
      return kind;
    }
  }
  return Error{ErrorCode::InvalidArgument,
               "say what to grant: {\"ip_group\": NAME|CIDR}, {\"exporter\": ADDRESS} or "
               "{\"interface\": \"ADDRESS:IFINDEX\"}"};
}

}  // namespace

std::vector<Route> admin_routes(Server& server) {
  Server* s = &server;
  std::vector<Route> r;
  r.push_back({"GET",
               "/api/v1/admin/users",
               Access::Admin,
               "users, roles and groups",
               {},
               "Users",
               [s](HttpCall&) -> Result<HttpReply> {
                 nlohmann::json users = nlohmann::json::array();
                 for (const User& u : s->auth().users()->users()) users.push_back(user_json(u));
                 return HttpReply{200, {{"users", std::move(users)}}};
               }});
  r.push_back({"POST",
               "/api/v1/admin/users",
               Access::Admin,
               "add a user",
               {{"name", "body", "string", "user name", true, {}},
                {"password", "body", "string", "password", true, {}},
                {"role",
                 "body",
                 "string",
                 "admin, analyst (default), read-only",
                 false,
                 {"admin", "analyst", "read-only"}}},
               "Ok",
               [s](HttpCall& c) -> Result<HttpReply> {
                 const nlohmann::json body = json_body(c);
                 auto name = string_field(body, "name");
                 if (!name) return name.error();
                 auto password = string_field(body, "password");
                 if (!password) return password.error();
                 auto role = parse_role(body.value("role", "analyst"));
                 if (!role) return role.error();
                 std::vector<std::string> groups = body.value("groups", std::vector<std::string>{});
                 return edit(*s, c, "user_add", *name, [&](UserDb& db) -> Result<void> {
                   if (auto e = db.add_user(*name, *password, *role); !e) return e;
                   return db.set_groups(*name, groups);
                 });
               }});
  r.push_back({"DELETE",
               "/api/v1/admin/users/{name}",
               Access::Admin,
               "remove a user (its keys and tokens end)",
               {{"name", "path", "string", "user name", true, {}}},
               "Ok",
               [s](HttpCall& c) -> Result<HttpReply> {
                 const std::string name = c.path.at(0);
                 return edit(*s, c, "user_remove", name,
                             [&](UserDb& db) { return db.remove_user(name); });
               }});
  r.push_back({"GET",
               "/api/v1/admin/groups",
               Access::Admin,
               "groups and their permissions",
               {},
               "Groups",
               [s](HttpCall&) -> Result<HttpReply> {
                 nlohmann::json groups = nlohmann::json::array();
                 for (const GroupPerms& g : s->auth().users()->groups()) {
                   groups.push_back(group_json(g));
                 }
                 return HttpReply{200, {{"groups", std::move(groups)}}};
               }});
  r.push_back({"POST",
               "/api/v1/admin/groups",
               Access::Admin,
               "add a group",
               {{"name", "body", "string", "group name", true, {}}},
               "Ok",
               [s](HttpCall& c) -> Result<HttpReply> {
                 auto name = string_field(json_body(c), "name");
                 if (!name) return name.error();
                 return edit(*s, c, "group_add", *name,
                             [&](UserDb& db) { return db.add_group(*name); });
               }});
  r.push_back({"DELETE",
               "/api/v1/admin/groups/{name}",
               Access::Admin,
               "remove a group without members",
               {{"name", "path", "string", "group name", true, {}}},
               "Ok",
               [s](HttpCall& c) -> Result<HttpReply> {
                 const std::string name = c.path.at(0);
                 return edit(*s, c, "group_remove", name,
                             [&](UserDb& db) { return db.remove_group(name); });
               }});
  for (const bool grant : {true, false}) {
    r.push_back({"POST",
                 grant ? "/api/v1/admin/groups/{name}/grant" : "/api/v1/admin/groups/{name}/revoke",
                 Access::Admin,
                 grant ? "let a group see an IP group, exporter or interface" : "take it back",
                 {{"name", "path", "string", "group name", true, {}},
                  {"ip_group", "body", "string", "IP group name or CIDR", false, {}},
                  {"exporter", "body", "string", "exporter address", false, {}},
                  {"interface", "body", "string", "EXPORTER:IFINDEX", false, {}}},
                 "Ok",
                 [s, grant](HttpCall& c) -> Result<HttpReply> {
                   const std::string group = c.path.at(0);
                   std::string value;
                   auto kind = grant_kind(json_body(c), value);
                   if (!kind) return kind.error();
                   return edit(*s, c, grant ? "grant" : "revoke",
                               fmt::format("{} {}", group, value), [&](UserDb& db) {
                                 return grant ? db.grant(group, *kind, value)
                                              : db.revoke(group, *kind, value);
                               });
                 }});
  }
  r.push_back({"GET",
               "/api/v1/admin/tokens",
               Access::Admin,
               "API tokens: id, user, label, creation time (never the token)",
               {},
               "Tokens",
               [s](HttpCall&) -> Result<HttpReply> {
                 nlohmann::json tokens = nlohmann::json::array();
                 for (const ApiToken& t : s->auth().users()->tokens()) {
                   tokens.push_back({{"id", t.id},
                                     {"user", t.user},
                                     {"label", t.label},
                                     {"created", format_time(time_from_ms(t.created_ms))}});
                 }
                 return HttpReply{200, {{"tokens", std::move(tokens)}}};
               }});
  r.push_back({"POST",
               "/api/v1/admin/tokens",
               Access::Admin,
               "make an API token; the answer is the only time it is shown",
               {{"user", "body", "string", "the user it acts as", true, {}},
                {"label", "body", "string", "what it is for", false, {}}},
               "Token",
               [s](HttpCall& c) -> Result<HttpReply> {
                 const nlohmann::json body = json_body(c);
                 auto user = string_field(body, "user");
                 if (!user) return user.error();
                 const std::string label = body.is_object() ? body.value("label", "") : "";
                 std::string token;
                 auto made = s->auth().edit_users([&](UserDb& db) -> Result<void> {
                   auto t = db.add_token(*user, label, s->now().time_since_epoch().count());
                   if (!t) return t.error();
                   token = std::move(*t);
                   return {};
                 });
                 if (!made) return made.error();
                 const std::string id = token.substr(4, 8);
                 s->auth().audit("token_add", c.principal->user, c.peer,
                                 fmt::format("token {} for {}", id, *user));
                 return HttpReply{200, {{"id", id}, {"user", *user}, {"token", token}}};
               }});
  r.push_back({"DELETE",
               "/api/v1/admin/tokens/{id}",
               Access::Admin,
               "revoke an API token",
               {{"id", "path", "string", "the token's id (8 hex digits)", true, {}}},
               "Ok",
               [s](HttpCall& c) -> Result<HttpReply> {
                 const std::string id = c.path.at(0);
                 return edit(*s, c, "token_revoke", id,
                             [&](UserDb& db) { return db.remove_token(id); });
               }});
  return r;
}

}  // namespace flowscope::server
