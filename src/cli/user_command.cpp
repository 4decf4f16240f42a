// `flowscope user`: users, groups and data permissions of the query server (FlowTraq's ftum;
// docs/users.md). Edits the user file (users.json) the server re-reads on SIGHUP, appending each
// change to the audit log; `user key` logs in to a server and prints a session key.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/server_login.h"
#include "cli/table_writer.h"
#include "core/time.h"
#include "server/auth.h"
#include "server/server_config.h"
#include "server/users.h"

namespace flowscope::cli {
namespace {

struct UserFiles {
  std::string config;  // -c serve.toml: users and audit paths from it
  std::string users;   // --users FILE
};

struct UserOptions {
  UserFiles files;
  std::string name;
  std::string password;
  std::string role = "analyst";
  std::vector<std::string> groups;
  std::string group;
  std::vector<std::string> ip_groups;
  std::vector<std::string> exporters;
  std::vector<std::string> interfaces;
  std::string label;
  bool json = false;
  ServerLogin login;
};

struct Paths {
  std::filesystem::path users;
  std::filesystem::path audit;
};

Paths paths_of(const UserFiles& f) {
  if (!f.users.empty()) {
    const std::filesystem::path users(f.users);
    return {users, users.parent_path() / "audit.log"};
  }
  if (!f.config.empty()) {
    auto cfg = server::load_server_config(f.config);
    if (!cfg) throw UserError{cfg.error().message};
    return {cfg->users_path(), cfg->audit_path()};
  }
  throw UserError{"which user file? give -c serve.toml or --users FILE", kExitUsage};
}

server::UserDb load(const Paths& p) {
  auto db = server::UserDb::load(p.users);
  if (!db) throw UserError{db.error().message};
  return std::move(*db);
}

void save(const server::UserDb& db, const Paths& p, std::string_view event,
          std::string_view detail) {
  if (auto r = db.save(p.users); !r) throw UserError{r.error().message};
  server::append_audit(p.audit, event, detail);
}

std::string password_of(const UserOptions& opt) {
  if (!opt.password.empty()) return opt.password;
  // From stdin, so that it stays out of the process list and shell history.
  if (::isatty(0)) std::fprintf(stderr, "password for %s: ", opt.name.c_str());
  std::string line;
  std::getline(std::cin, line);
  if (line.empty()) throw UserError{"no password given: use -p PASSWORD or type it on stdin"};
  return line;
}

server::Role role_of(const std::string& text) {
  auto r = server::parse_role(text);
  if (!r) throw UserError{r.error().message, kExitUsage};
  return *r;
}

void check(Result<void> r) {
  if (!r) throw UserError{r.error().message};
}

void add_files(CLI::App* cmd, UserFiles& f) {
  cmd->add_option("-c,--config", f.config, "the serve configuration (finds users and audit log)");
  cmd->add_option("--users", f.users, "the user file (users.json) directly");
}

void run_list(const UserOptions& opt) {
  const server::UserDb db = load(paths_of(opt.files));
  if (opt.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const server::User& u : db.users()) {
      j.push_back({{"name", u.name}, {"role", server::role_name(u.role)}, {"groups", u.groups}});
    }
    std::cout << j.dump(2) << '\n';
    return;
  }
  TableWriter t({{"user"}, {"role"}, {"groups"}});
  for (const server::User& u : db.users()) {
    t.add_row({u.name, std::string(server::role_name(u.role)),
               fmt::format("{}", fmt::join(u.groups, ","))});
  }
  t.write(std::cout);
}

void run_groups(const UserOptions& opt) {
  const server::UserDb db = load(paths_of(opt.files));
  TableWriter t({{"group"}, {"ip_groups"}, {"exporters"}});
  for (const server::GroupPerms& g : db.groups()) {
    std::vector<std::string> ex;
    for (const IpAddress& e : g.exporters) ex.push_back(fmt::format("{}", e));
    t.add_row({g.name,
               g.ip_groups.empty() ? "(any)" : fmt::format("{}", fmt::join(g.ip_groups, ",")),
               ex.empty() ? "(any)" : fmt::format("{}", fmt::join(ex, ","))});
  }
  t.write(std::cout);
}

void run_grant(const UserOptions& opt, bool grant) {
  if (opt.ip_groups.empty() && opt.exporters.empty() && opt.interfaces.empty()) {
    throw UserError{
        "nothing to grant: give --ip-group NAME|CIDR, --exporter ADDRESS or "
        "--interface ADDRESS:IFINDEX",
        kExitUsage};
  }
  const Paths p = paths_of(opt.files);
  server::UserDb db = load(p);
  for (const std::string& g : opt.ip_groups) {
    check(grant ? db.grant(opt.group, server::GrantKind::IpGroup, g)
                : db.revoke(opt.group, server::GrantKind::IpGroup, g));
  }
  for (const std::string& e : opt.exporters) {
    check(grant ? db.grant(opt.group, server::GrantKind::Exporter, e)
                : db.revoke(opt.group, server::GrantKind::Exporter, e));
  }
  for (const std::string& i : opt.interfaces) {
    check(grant ? db.grant(opt.group, server::GrantKind::Interface, i)
                : db.revoke(opt.group, server::GrantKind::Interface, i));
  }
  save(db, p, grant ? "grant" : "revoke",
       fmt::format("group {} ip_groups [{}] exporters [{}] interfaces [{}]", opt.group,
                   fmt::join(opt.ip_groups, ","), fmt::join(opt.exporters, ","),
                   fmt::join(opt.interfaces, ",")));
}

// `flowscope user token add|list|revoke`: API tokens for the HTTP API (docs/http.md).
void register_token(CLI::App* cmd, const std::shared_ptr<UserOptions>& opt) {
  CLI::App* token = cmd->add_subcommand("token", "API tokens for the HTTP API: add, list, revoke");
  token->require_subcommand(1);
  CLI::App* add =
      token->add_subcommand("add", "make a token for a user; printed once, stored hashed");
  add->add_option("name", opt->name, "the user the token acts as")->required();
  add->add_option("--label", opt->label, "what the token is for");
  add_files(add, opt->files);
  add->footer("Examples:\n  flowscope user token add grafana --label dashboards -c serve.toml");
  add->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    auto t = db.add_token(opt->name, opt->label, to_ms(server::system_clock()()));
    if (!t) throw UserError{t.error().message};
    save(db, p, "token_add", fmt::format("token {} for {}", t->substr(4, 8), opt->name));
    std::cout << *t << '\n';
    std::cerr << "this token is shown only now; the server accepts it after a reload "
                 "(systemctl reload flowscope)\n";
  });
  CLI::App* list =
      token->add_subcommand("list", "tokens: id, user, label, created (never the token)");
  add_files(list, opt->files);
  list->add_flag("--json", opt->json, "JSON");
  list->footer("Examples:\n  flowscope user token list -c serve.toml");
  list->callback([opt] {
    const server::UserDb db = load(paths_of(opt->files));
    if (opt->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const server::ApiToken& t : db.tokens()) {
        j.push_back({{"id", t.id},
                     {"user", t.user},
                     {"label", t.label},
                     {"created", format_time(time_from_ms(t.created_ms))}});
      }
      std::cout << j.dump(2) << '\n';
      return;
    }
    TableWriter t({{"id"}, {"user"}, {"label"}, {"created"}});
    for (const server::ApiToken& k : db.tokens()) {
      t.add_row({k.id, k.user, k.label, format_time(time_from_ms(k.created_ms))});
    }
    t.write(std::cout);
  });
  CLI::App* revoke = token->add_subcommand("revoke", "revoke a token by its id");
  revoke->add_option("id", opt->name, "the token's id (token list)")->required();
  add_files(revoke, opt->files);
  revoke->footer("Examples:\n  flowscope user token revoke 3f1c09ab -c serve.toml");
  revoke->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    check(db.remove_token(opt->name));
    save(db, p, "token_revoke", opt->name);
  });
}

}  // namespace

void register_user(CLI::App& app) {
  auto opt = std::make_shared<UserOptions>();
  CLI::App* cmd = app.add_subcommand(
      "user", "manage query users, groups and data permissions (FlowTraq's ftum)");
  cmd->require_subcommand(1);
  cmd->footer(
      "Roles: admin (all data, administration), analyst, read-only. docs/users.md.\n\n"
      "Examples:\n"
      "  flowscope user add alice --role analyst -c serve.toml      (password on stdin)\n"
      "  flowscope user groups add campus -c serve.toml\n"
      "  flowscope user grant campus --ip-group Campus --exporter 10.0.0.1 -c serve.toml\n"
      "  flowscope user set-groups alice campus -c serve.toml\n"
      "  flowscope user list -c serve.toml\n"
      "  flowscope user token add grafana -c serve.toml               (an HTTP API token)\n"
      "  flowscope user key -srv localhost -un alice -up secret      (prints a key on stderr)");

  CLI::App* add = cmd->add_subcommand("add", "add a user");
  add->add_option("name", opt->name, "user name")->required();
  add->add_option("-p,--password", opt->password, "password (default: read from stdin)");
  add->add_option("--role", opt->role, "admin, analyst or read-only")->capture_default_str();
  add->add_option("-g,--group", opt->groups, "groups the user belongs to");
  add_files(add, opt->files);
  add->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    const server::Role role = role_of(opt->role);
    check(db.add_user(opt->name, password_of(*opt), role));
    if (!opt->groups.empty()) check(db.set_groups(opt->name, opt->groups));
    save(db, p, "user_add", fmt::format("{} role {}", opt->name, opt->role));
  });

  CLI::App* remove = cmd->add_subcommand("remove", "remove a user");
  remove->add_option("name", opt->name, "user name")->required();
  add_files(remove, opt->files);
  remove->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    check(db.remove_user(opt->name));
    save(db, p, "user_remove", opt->name);
  });

  CLI::App* passwd = cmd->add_subcommand("passwd", "set a user's password");
  passwd->add_option("name", opt->name, "user name")->required();
  passwd->add_option("-p,--password", opt->password, "password (default: read from stdin)");
  add_files(passwd, opt->files);
  passwd->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    check(db.set_password(opt->name, password_of(*opt)));
    save(db, p, "user_passwd", opt->name);
  });

  CLI::App* role = cmd->add_subcommand("role", "set a user's role");
  role->add_option("name", opt->name, "user name")->required();
  role->add_option("role", opt->role, "admin, analyst or read-only")->required();
  add_files(role, opt->files);
  role->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    check(db.set_role(opt->name, role_of(opt->role)));
    save(db, p, "user_role", fmt::format("{} {}", opt->name, opt->role));
  });

  CLI::App* set_groups = cmd->add_subcommand("set-groups", "set the groups of a user");
  set_groups->add_option("name", opt->name, "user name")->required();
  set_groups->add_option("groups", opt->groups, "group names (none: no group)");
  add_files(set_groups, opt->files);
  set_groups->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    check(db.set_groups(opt->name, opt->groups));
    save(db, p, "user_groups", fmt::format("{} [{}]", opt->name, fmt::join(opt->groups, ",")));
  });

  CLI::App* list = cmd->add_subcommand("list", "list users, their roles and groups");
  list->add_flag("--json", opt->json, "as JSON");
  add_files(list, opt->files);
  list->callback([opt] { run_list(*opt); });

  CLI::App* groups =
      cmd->add_subcommand("groups", "list groups and their permissions; add, remove");
  add_files(groups, opt->files);
  groups->callback([opt, groups] {
    if (groups->get_subcommands().empty()) run_groups(*opt);
  });
  CLI::App* gadd = groups->add_subcommand("add", "add a group");
  gadd->add_option("group", opt->group, "group name")->required();
  add_files(gadd, opt->files);
  gadd->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    check(db.add_group(opt->group));
    save(db, p, "group_add", opt->group);
  });
  CLI::App* gremove = groups->add_subcommand("remove", "remove a group without members");
  gremove->add_option("group", opt->group, "group name")->required();
  add_files(gremove, opt->files);
  gremove->callback([opt] {
    const Paths p = paths_of(opt->files);
    server::UserDb db = load(p);
    check(db.remove_group(opt->group));
    save(db, p, "group_remove", opt->group);
  });

  for (const bool grant : {true, false}) {
    CLI::App* g = cmd->add_subcommand(grant ? "grant" : "revoke",
                                      grant ? "let a group see IP groups / exporters"
                                            : "take an IP group / exporter from a group");
    g->add_option("group", opt->group, "group name")->required();
    g->add_option("--ip-group", opt->ip_groups, "an IP group name (enrich) or a CIDR");
    g->add_option("--exporter", opt->exporters, "an exporter address");
    g->add_option("--interface", opt->interfaces, "one interface: EXPORTER:IFINDEX");
    add_files(g, opt->files);
    g->callback([opt, grant] { run_grant(*opt, grant); });
  }

  register_token(cmd, opt);

  CLI::App* key = cmd->add_subcommand("key", "log in to a server and print a session key (-us)");
  add_server_options(key, opt->login);
  const std::pair<CLI::App*, const char*> examples[] = {
      {add, "flowscope user add alice --role analyst -g campus -c serve.toml"},
      {remove, "flowscope user remove alice -c serve.toml"},
      {passwd, "flowscope user passwd alice -c serve.toml        (password on stdin)"},
      {role, "flowscope user role alice read-only -c serve.toml"},
      {set_groups, "flowscope user set-groups alice campus dmz -c serve.toml"},
      {list, "flowscope user list --json --users /var/lib/flowscope/users.json"},
      {groups, "flowscope user groups add campus -c serve.toml"},
      {gadd, "flowscope user groups add campus -c serve.toml"},
      {gremove, "flowscope user groups remove campus -c serve.toml"},
      {key, "flowscope user key -srv collector:9640 -un alice -up secret"},
  };
  for (const auto& [sub, line] : examples) sub->footer(std::string("Examples:\n  ") + line);
  for (CLI::App* sub : cmd->get_subcommands({})) {
    if (sub->get_name() == "token")
      sub->footer("Examples:\n  flowscope user token add grafana -c serve.toml");
    if (sub->get_name() == "grant" || sub->get_name() == "revoke") {
      sub->footer("Examples:\n  flowscope user " + sub->get_name() +
                  " campus --ip-group Campus --ip-group 10.1.0.0/16 --exporter 192.0.2.1 "
                  "-c serve.toml");
    }
  }
  key->callback([opt] {
    ServerLogin login = opt->login;
    // ftum without -us only checks the login, as FlowTraq's does; `user key` always asks.
    login.request_key = login.request_key || !login.flowtraq;
    server::Client client = connect_server(login);
    (void)client;
  });
}

}  // namespace flowscope::cli
