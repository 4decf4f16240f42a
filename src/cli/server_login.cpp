#include "cli/server_login.h"

#include <algorithm>
#include <cstdio>

#include "cli/commands.h"

namespace flowscope::cli {

void add_server_options(CLI::App* cmd, ServerLogin& login) {
  cmd->add_option("--srv", login.server,
                  "run on a flowscope server, HOST[:PORT] (port 9640); spelt -srv as in FlowTraq");
  cmd->add_option("--un", login.user, "user name on the server (-un)");
  cmd->add_option("--up", login.password, "password (-up); see docs/users.md");
  cmd->add_option("--key", login.key, "a session key obtained with -us (-us KEY)");
  cmd->add_flag("--request-key", login.request_key,
                "ask for a session key at login and print it on stderr (-us with -un)");
  cmd->add_option("--bind", login.bind, "source address of the connection");
}

server::Client connect_server(const ServerLogin& login) {
  server::ClientOptions opt;
  opt.server = login.server.empty() ? "localhost" : login.server;
  opt.bind_address = login.bind;
  opt.user = login.user;
  opt.password = login.password;
  opt.key = login.key;
  opt.want_key = login.request_key;
  if (opt.key.empty() && opt.user.empty()) {
    throw UserError{"log in with -un USER -up PASSWORD, or -us KEY", kExitUsage};
  }
  auto client = server::Client::connect(opt);
  if (!client) throw UserError{"server " + opt.server + ": " + client.error().message};
  if (!client->key().empty()) {
    std::fprintf(stderr, "session key: %s\n", client->key().c_str());
  }
  return std::move(*client);
}

std::vector<std::string> translate_flowtraq_options(std::vector<std::string> args) {
  const bool has_user = std::find(args.begin(), args.end(), "-un") != args.end();
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string& a = args[i];
    if (a == "--") break;
    if (a == "-srv" || a == "-un" || a == "-up") {
      a = "-" + a;
    } else if (a == "-us") {
      a = has_user ? "--request-key" : "--key";
    }
  }
  return args;
}

}  // namespace flowscope::cli
