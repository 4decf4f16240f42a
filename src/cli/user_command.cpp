// `flowscope user`: users, groups and data permissions of the query server (FlowTraq's ftum;
// docs/users.md). Edits the user file (users.json) the server re-reads on SIGHUP, appending each
// change to the audit log (server/user_admin.h); `user key` logs in to a server and prints a
// session key.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/server_login.h"
#include "cli/short_flags.h"
#include "cli/table_writer.h"
#include "core/log.h"
#include "core/time.h"
#include "server/auth.h"
#include "server/user_admin.h"
#include "server/users.h"

namespace flowscope::cli {
namespace {

struct UserFiles {
  std::string config;  // -C serve.toml: users and audit paths from it
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
  std::string groups_file;  // grant: the IP groups file to check names against
  std::string label;
  bool json = false;
  ServerLogin login;
};

using Paths = server::UserFilePaths;

Paths paths_of(const UserFiles& f) {
  if (f.users.empty() && f.config.empty()) {
    throw UserError{"which user file? give -C serve.toml or --users FILE", kExitUsage};
  }
  auto paths = server::user_file_paths(f.users, f.config);
  if (!paths) throw UserError{paths.error().message};
  return *paths;
}

server::UserDb load(const Paths& p) {
  auto db = server::UserDb::load(p.users);
  if (!db) throw UserError{db.error().message};
  return std::move(*db);
}

// What every saved edit tells the user: the running server applies it at its next reload.
void note_reload(const Paths& p) {
  const std::string note = p.users.string() + ": " + server::kReloadNote;
  log_always(spdlog::level::info, "user", note, note);
}

void print_table(std::vector<TableWriter::ColumnSpec> columns,
                 std::vector<std::vector<std::string>> rows) {
  TableWriter t(std::move(columns));
  for (auto& row : rows) t.add_row(std::move(row));
  t.write(std::cout);
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

void add_files(CLI::App* cmd, UserFiles& f) {
  cmd->add_option("-C,--config", f.config, "the serve configuration (finds users and audit log)");
  add_moved_flag(*cmd, 'c', "the configuration is -C FILE (--config), as nfdump's -C");
  cmd->add_option("--users", f.users, "the user file (users.json) directly");
}

void run_list(const UserOptions& opt) {
  const server::UserDb db = load(paths_of(opt.files));
  if (opt.json) {
    std::cout << server::users_json(db).dump(2) << '\n';
    return;
  }
  print_table({{"user"}, {"role"}, {"groups"}}, server::user_rows(db));
}

void run_groups(const UserOptions& opt) {
  const server::UserDb db = load(paths_of(opt.files));
  print_table({{"group"}, {"ip_groups"}, {"exporters"}}, server::group_rows(db));
}

void run_grant(const UserOptions& opt, bool grant) {
  if (opt.ip_groups.empty() && opt.exporters.empty() && opt.interfaces.empty()) {
    throw UserError{
        "nothing to grant: give --ip-group NAME|CIDR, --exporter ADDRESS or "
        "--interface ADDRESS:IFINDEX",
        kExitUsage};
  }
  const Paths p = paths_of(opt.files);
  auto r = server::change_grants_in_file(p, opt.groups_file, opt.group, grant, opt.ip_groups,
                                         opt.exporters, opt.interfaces);
  if (!r) throw UserError{r.error().message};
  note_reload(p);
}

// Loads the user file, applies one edit (role and password read after the load, as before),
// saves it and appends the audit line (server/user_admin.h).
void run_edit(const UserOptions& opt, server::UserEdit edit) {
  using server::UserEdit;
  const Paths p = paths_of(opt.files);
  auto r = server::edit_user_file(p, [&](server::UserDb& db) {
    const bool group = edit == UserEdit::AddGroup || edit == UserEdit::RemoveGroup;
    server::UserChange change{
        edit, group ? opt.group : opt.name, "", server::Role::Analyst, opt.role, opt.groups};
    if (edit == UserEdit::AddUser || edit == UserEdit::SetRole) change.role = role_of(opt.role);
    if (edit == UserEdit::AddUser || edit == UserEdit::SetPassword) {
      change.password = password_of(opt);
    }
    return server::apply_user_change(db, change);
  });
  if (!r) throw UserError{r.error().message};
  note_reload(p);
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
  add->footer("Examples:\n  flowscope user token add grafana --label dashboards -C serve.toml");
  add->callback([opt] {
    const Paths p = paths_of(opt->files);
    std::string made;
    auto r = server::edit_user_file(p, [&](server::UserDb& db) -> Result<server::AuditEntry> {
      auto t = db.add_token(opt->name, opt->label, to_ms(server::system_clock()()));
      if (!t) return t.error();
      made = *t;
      return server::AuditEntry{"token_add",
                                fmt::format("token {} for {}", t->substr(4, 8), opt->name)};
    });
    if (!r) throw UserError{r.error().message};
    note_reload(p);
    std::cout << made << '\n';
    const std::string note =
        "this token is shown only now; the server accepts it after a reload (systemctl reload "
        "flowscope)";
    log_always(spdlog::level::info, "user", note, note);
  });
  CLI::App* list =
      token->add_subcommand("list", "tokens: id, user, label, created (never the token)");
  add_files(list, opt->files);
  list->add_flag("--json", opt->json, "JSON");
  list->footer("Examples:\n  flowscope user token list -C serve.toml");
  list->callback([opt] {
    const server::UserDb db = load(paths_of(opt->files));
    if (opt->json) {
      std::cout << server::tokens_json(db).dump(2) << '\n';
      return;
    }
    print_table({{"id"}, {"user"}, {"label"}, {"created"}}, server::token_rows(db));
  });
  CLI::App* revoke = token->add_subcommand("revoke", "revoke a token by its id");
  revoke->add_option("id", opt->name, "the token's id (token list)")->required();
  add_files(revoke, opt->files);
  revoke->footer("Examples:\n  flowscope user token revoke 3f1c09ab -C serve.toml");
  revoke->callback([opt] { run_edit(*opt, server::UserEdit::RevokeToken); });
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
      "  flowscope user add alice --role analyst -C serve.toml      (password on stdin)\n"
      "  flowscope user groups add campus -C serve.toml\n"
      "  flowscope user grant campus --ip-group Campus --exporter 10.0.0.1 -C serve.toml\n"
      "  flowscope user set-groups alice campus -C serve.toml\n"
      "  flowscope user list -C serve.toml\n"
      "  flowscope user token add grafana -C serve.toml               (an HTTP API token)\n"
      "  flowscope user key -srv localhost -un alice -up secret      (prints a key on stderr)");

  CLI::App* add = cmd->add_subcommand("add", "add a user");
  add->add_option("name", opt->name, "user name")->required();
  add->add_option("-p,--password", opt->password, "password (default: read from stdin)");
  add->add_option("--role", opt->role, "admin, analyst or read-only")->capture_default_str();
  add->add_option("-g,--group", opt->groups, "groups the user belongs to");
  add_files(add, opt->files);
  add->callback([opt] { run_edit(*opt, server::UserEdit::AddUser); });

  CLI::App* remove = cmd->add_subcommand("remove", "remove a user");
  remove->add_option("name", opt->name, "user name")->required();
  add_files(remove, opt->files);
  remove->callback([opt] { run_edit(*opt, server::UserEdit::RemoveUser); });

  CLI::App* passwd = cmd->add_subcommand("passwd", "set a user's password");
  passwd->add_option("name", opt->name, "user name")->required();
  passwd->add_option("-p,--password", opt->password, "password (default: read from stdin)");
  add_files(passwd, opt->files);
  passwd->callback([opt] { run_edit(*opt, server::UserEdit::SetPassword); });

  CLI::App* role = cmd->add_subcommand("role", "set a user's role");
  role->add_option("name", opt->name, "user name")->required();
  role->add_option("role", opt->role, "admin, analyst or read-only")->required();
  add_files(role, opt->files);
  role->callback([opt] { run_edit(*opt, server::UserEdit::SetRole); });

  CLI::App* set_groups = cmd->add_subcommand("set-groups", "set the groups of a user");
  set_groups->add_option("name", opt->name, "user name")->required();
  set_groups->add_option("groups", opt->groups, "group names (none: no group)");
  add_files(set_groups, opt->files);
  set_groups->callback([opt] { run_edit(*opt, server::UserEdit::SetGroups); });

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
  gadd->callback([opt] { run_edit(*opt, server::UserEdit::AddGroup); });
  CLI::App* gremove = groups->add_subcommand("remove", "remove a group without members");
  gremove->add_option("group", opt->group, "group name")->required();
  add_files(gremove, opt->files);
  gremove->callback([opt] { run_edit(*opt, server::UserEdit::RemoveGroup); });

  for (const bool grant : {true, false}) {
    CLI::App* g = cmd->add_subcommand(grant ? "grant" : "revoke",
                                      grant ? "let a group see IP groups / exporters"
                                            : "take an IP group / exporter from a group");
    g->add_option("group", opt->group, "group name")->required();
    g->add_option("--ip-group", opt->ip_groups, "an IP group name (enrich) or a CIDR");
    g->add_option("--exporter", opt->exporters, "an exporter address");
    g->add_option("--interface", opt->interfaces, "one interface: EXPORTER:IFINDEX");
    add_files(g, opt->files);
    if (grant) {
      g->add_option("--groups", opt->groups_file,
                    "the IP groups file (TOML or ipInfo.ini) that names the groups; default: the "
                    "[enrich] ip_groups of -C serve.toml");
    }
    g->callback([opt, grant] { run_grant(*opt, grant); });
  }

  register_token(cmd, opt);

  CLI::App* key = cmd->add_subcommand("key", "log in to a server and print a session key (-us)");
  add_server_options(key, opt->login);
  const std::pair<CLI::App*, const char*> examples[] = {
      {add, "flowscope user add alice --role analyst -g campus -C serve.toml"},
      {remove, "flowscope user remove alice -C serve.toml"},
      {passwd, "flowscope user passwd alice -C serve.toml        (password on stdin)"},
      {role, "flowscope user role alice read-only -C serve.toml"},
      {set_groups, "flowscope user set-groups alice campus dmz -C serve.toml"},
      {list, "flowscope user list --json --users /var/lib/flowscope/users.json"},
      {groups, "flowscope user groups add campus -C serve.toml"},
      {gadd, "flowscope user groups add campus -C serve.toml"},
      {gremove, "flowscope user groups remove campus -C serve.toml"},
      {key, "flowscope user key -srv collector:9640 -un alice -up secret"},
  };
  for (const auto& [sub, line] : examples) sub->footer(std::string("Examples:\n  ") + line);
  for (CLI::App* sub : cmd->get_subcommands({})) {
    if (sub->get_name() == "token")
      sub->footer("Examples:\n  flowscope user token add grafana -C serve.toml");
    if (sub->get_name() == "grant" || sub->get_name() == "revoke") {
      sub->footer("Examples:\n  flowscope user " + sub->get_name() +
                  " campus --ip-group Campus --ip-group 10.1.0.0/16 --exporter 192.0.2.1 "
                  "-C serve.toml");
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
