#include "cli/server_login.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/log.h"

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
  cmd->add_option("--password-file", login.password_file,
                  "read the password from the first line of FILE (else -up, $FLOWSCOPE_PASSWORD "
                  "or a prompt)");
  cmd->add_flag("--flowtraq-cli", login.flowtraq)->group("");  // set when invoked as ftsq etc.
  cmd->add_flag("--tls-insecure", login.tls_insecure,
                "TLS without verifying the server's certificate (unsafe: the password can be "
                "intercepted); implies --tls");
}

std::string login_password(const ServerLogin& login) {
  if (!login.password.empty() || login.user.empty() || !login.key.empty()) return login.password;
  if (!login.password_file.empty()) {
    std::ifstream in(login.password_file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      throw UserError{"--password-file " + login.password_file +
                      ": cannot read a password from it; give a readable file whose first line "
                      "is the password"};
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (const char* env = std::getenv("FLOWSCOPE_PASSWORD"); env != nullptr && *env != '\0') {
    return env;
  }
  if (::isatty(0) != 1) {
    throw UserError{"no password for " + login.user +
                        ": give -up PASSWORD, --password-file FILE or $FLOWSCOPE_PASSWORD, or run "
                        "on a terminal to be asked",
                    kExitUsage};
  }
  std::fprintf(stderr, "password for %s: ", login.user.c_str());
  std::fflush(stderr);
  termios old{};
  const bool term = ::tcgetattr(0, &old) == 0;
  if (term) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(0, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (term) ::tcsetattr(0, TCSANOW, &old);
  std::fputc('\n', stderr);
  return line;
}

server::Client connect_server(const ServerLogin& login) {
  server::ClientOptions opt;
  opt.server = login.server.empty() ? "localhost" : login.server;
  opt.bind_address = login.bind;
  opt.user = login.user;
  opt.password = login_password(login);
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
    const std::string message = fmt::format(
        "--tls-insecure: the server's certificate is not verified; anyone between here and {} "
        "can pose as the server and read the password",
        opt.server);
    log_always(spdlog::level::warn, "login", "warning: " + message, message);
  }
  auto client = server::Client::connect(opt);
  if (!client) throw UserError{"server " + opt.server + ": " + client.error().message};
  if (!client->key().empty()) {
    if (login.flowtraq) {
      std::fprintf(stderr, "%s\n", client->key().c_str());
    } else {
      std::fprintf(stderr, "session key: %s\n", client->key().c_str());
    }
  }
  return std::move(*client);
}

namespace {

// A session key as the server issues it: hex digits (docs/users.md); a filter never is one.
bool looks_like_key(const std::string& s) {
  return s.size() >= 16 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

}  // namespace

std::vector<std::string> translate_flowtraq_options(std::vector<std::string> args) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string& a = args[i];
    if (a == "--") break;
    if (a == "-srv" || a == "-un" || a == "-up") {
      a = "-" + a;
    } else if (a == "-us") {
      a = i + 1 < args.size() && looks_like_key(args[i + 1]) ? "--key" : "--request-key";
    }
  }
  return args;
}

}  // namespace flowscope::cli
