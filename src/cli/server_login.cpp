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
  cmd->add_flag("--tls", login.tls,
                "connect with TLS, verifying the server against the system's CAs (or --tls-ca)");
  cmd->add_option("--tls-ca", login.tls_ca,
                  "PEM file of the CA (or the self-signed certificate) the server's certificate "
                  "must chain to; implies --tls");
  cmd->add_flag("--tls-insecure", login.tls_insecure,
                "TLS without verifying the server's certificate (unsafe: the password can be "
                "intercepted); implies --tls");
}

server::Client connect_server(const ServerLogin& login) {
  server::ClientOptions opt;
  opt.server = login.server.empty() ? "localhost" : login.server;
  opt.bind_address = login.bind;
  opt.user = login.user;
  opt.password = login.password;
  opt.key = login.key;
  opt.want_key = login.request_key;
  opt.tls = login.tls || !login.tls_ca.empty() || login.tls_insecure;
  opt.tls_ca = login.tls_ca;
  opt.tls_insecure = login.tls_insecure;
  if (opt.tls_insecure && !opt.tls_ca.empty()) {
    throw UserError{"--tls-insecure skips the check --tls-ca asks for; give one of them",
                    kExitUsage};
  }
  if (opt.key.empty() && opt.user.empty()) {
    throw UserError{"log in with -un USER -up PASSWORD, or -us KEY", kExitUsage};
  }
  if (opt.tls_insecure) {
    std::fprintf(stderr,
                 "warning: --tls-insecure: the server's certificate is not verified; anyone "
                 "between here and %s can pose as the server and read the password\n",
                 opt.server.c_str());
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
