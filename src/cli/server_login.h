#pragma once
// The options that reach a `flowscope serve` over the query protocol, shared by `flowscope
// query`, `stat` and `user key`: -srv HOST[:PORT], -un USER -up PASSWORD, -us (FlowTraq's
// spelling). With -un, -us asks the server for a session key (printed on stderr); without, -us
// KEY logs in with a key obtained earlier. --tls wraps the connection in TLS (--tls-ca FILE,
// --tls-insecure). Main thread only.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "server/client.h"

namespace flowscope::cli {

struct ServerLogin {
  std::string server;  // empty: not a remote command
  std::string user;
  std::string password;
  std::string key;
  bool request_key = false;
  std::string bind;  // --bind ADDRESS: the client's source address
  bool tls = false;  // --tls
  std::string tls_ca;
  bool tls_insecure = false;
  std::string password_file;  // --password-file FILE: its first line
  bool flowtraq = false;      // invoked as ftsq/ftstat/ftum: the key is printed bare
};

// Adds --srv/--un/--up/--key/--request-key/--bind/--tls/--tls-ca/--tls-insecure to `cmd` (main()
// maps -srv etc. onto them).
void add_server_options(CLI::App* cmd, ServerLogin& login);

// The password of a login with -un: -up, else --password-file, else $FLOWSCOPE_PASSWORD, else
// asked on the terminal (echo off). Empty when a key is given. Throws UserError.
std::string login_password(const ServerLogin& login);

// Connects and logs in; prints an obtained key on stderr ("session key: KEY", or the bare key
// under FlowTraq's names, as its manual shows). Throws UserError.
server::Client connect_server(const ServerLogin& login);

// FlowTraq-style single-dash long options (-srv, -un, -up, -us) as CLI11 wants them:
// -srv -> --srv, -un -> --un, -up -> --up; -us followed by a key (hex digits) -> --key KEY,
// a bare -us -> --request-key (FlowTraq: "-us" alone asks for a key, "-us KEY" uses one).
std::vector<std::string> translate_flowtraq_options(std::vector<std::string> args);

}  // namespace flowscope::cli
