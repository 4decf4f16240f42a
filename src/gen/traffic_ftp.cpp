// `gen traffic`'s FTP streams: a minimal server (RFC 959 plus RFC 2428's EPSV/EPRT) and a
// client making `count` RETR transfers in passive or active mode over one control connection.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "gen/traffic_io.h"

namespace flowscope::gen::traffic_detail {
namespace {

// ---- FTP: one control connection, `count` RETR transfers of `size` bytes ----

std::string ftp_host_port(const IpAddress& a, std::uint16_t port) {
  const std::uint32_t v = a.v4_value();
  return fmt::format("{},{},{},{},{},{}", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255,
                     port >> 8, port & 255);
}

// The server side: a minimal FTP server (RFC 959 plus RFC 2428's EPSV/EPRT) that serves
// any RETR with `size` bytes.
void ftp_server(Run& run, const StreamSpec& spec, int listener,
                std::vector<ExpectedSession>& data_server_side, std::uint64_t& control_bytes) {
  Fd ctrl = accept_until(listener, run.servers_stop);
  if (!ctrl.valid()) return;
  const IpAddress& addr = run.scenario.address;
  auto reply = [&](const std::string& text) {
    const std::string line = text + "\r\n";
    control_bytes += line.size();
    return write_all(ctrl.get(), line.data(), line.size());
  };
  reply("220 flowscope-gen FTP ready");
  LineReader lines(ctrl.get());
  Fd passive;
  std::optional<std::pair<IpAddress, std::uint16_t>> active;
  while (auto cmd = lines.line()) {
    const std::string verb = cmd->substr(0, cmd->find(' '));
    const std::string arg =
        cmd->find(' ') == std::string::npos ? "" : cmd->substr(cmd->find(' ') + 1);
    if (verb == "USER") {
      reply("331 Password required");
    } else if (verb == "PASS") {
      reply("230 Logged in");
    } else if (verb == "TYPE") {
      reply("200 Type set to I");
    } else if (verb == "PASV" || verb == "EPSV") {
      auto l = listen_tcp(addr, 0);
      if (!l) {
        reply("425 Cannot open data connection");
        continue;
      }
      passive = std::move(*l);
      const std::uint16_t p = local_port(passive.get());
      reply(verb == "PASV" ? fmt::format("227 Entering Passive Mode ({})", ftp_host_port(addr, p))
                           : fmt::format("229 Entering Extended Passive Mode (|||{}|)", p));
    } else if (verb == "PORT" || verb == "EPRT") {
      std::uint16_t port = 0;
      if (verb == "PORT") {
        unsigned h[6]{};
        if (std::sscanf(arg.c_str(), "%u,%u,%u,%u,%u,%u", &h[0], &h[1], &h[2], &h[3], &h[4],
                        &h[5]) == 6) {
          port = static_cast<std::uint16_t>(h[4] * 256 + h[5]);
        }
      } else {  // |1|127.0.0.1|port| or |2|::1|port|
        const std::size_t last = arg.rfind('|', arg.size() - 2);
        if (last != std::string::npos)
          port = static_cast<std::uint16_t>(std::atoi(arg.c_str() + last + 1));
      }
      if (port == 0) {
        reply("501 Bad address");
        continue;
      }
      active = std::make_pair(addr, port);
      reply(fmt::format("200 {} command successful", verb));
    } else if (verb == "RETR") {
      Fd data;
      std::uint16_t server_data_port = 0;
      if (passive.valid()) {
        reply("150 Opening BINARY mode data connection");
        data = accept_until(passive.get(), run.servers_stop);
        server_data_port = local_port(passive.get());
        passive.reset();
      } else if (active) {
        reply("150 Opening BINARY mode data connection");
        auto c = connect_tcp(active->first, active->second);
        if (c) {
          server_data_port = local_port(c->get());
          data = std::move(*c);
        }
        active.reset();
      } else {
        reply("425 Use PASV or PORT first");
        continue;
      }
      if (!data.valid() || !write_pattern(data.get(), spec.size)) {
        reply("426 Transfer aborted");
        continue;
      }
      ::shutdown(data.get(), SHUT_WR);
      (void)drain(data.get());
      data.reset();
      ExpectedSession s;
      s.server_port = server_data_port;
      s.server_payload = spec.size;
      data_server_side.push_back(s);
      reply("226 Transfer complete");
    } else if (verb == "QUIT") {
      reply("221 Goodbye");
      break;
    } else {
      reply("502 Unknown command");
    }
  }
  ::shutdown(ctrl.get(), SHUT_WR);
  (void)drain(ctrl.get());
}

}  // namespace

void run_ftp(Run& run, const StreamSpec& spec, Fd listener) {
  const IpAddress& addr = run.scenario.address;
  const std::uint16_t server_port = local_port(listener.get());
  if (!addr.is_v4() && (spec.ftp_mode == FtpMode::Pasv || spec.ftp_mode == FtpMode::Port)) {
    run.failure(spec, "PASV and PORT carry IPv4 addresses only; use mode = \"epsv\" or \"eprt\"");
    return;
  }
  std::vector<ExpectedSession> data_server_side;
  std::uint64_t server_control_bytes = 0;
  std::thread server(
      [&] { ftp_server(run, spec, listener.get(), data_server_side, server_control_bytes); });

  auto ctrl = connect_tcp(addr, server_port);
  if (!ctrl) {
    run.failure(spec, ctrl.error().message);
    run.servers_stop.store(true);
    server.join();
    return;
  }
  ExpectedSession control = session_of(spec, 6, addr, local_port(ctrl->get()), server_port);
  control.role = "control";
  LineReader lines(ctrl->get());
  auto command = [&](const std::string& text) -> std::optional<std::string> {
    const std::string line = text + "\r\n";
    if (!write_all(ctrl->get(), line.data(), line.size())) return std::nullopt;
    control.client_payload += line.size();
    return lines.line();
  };
  std::vector<ExpectedSession> data_sessions;
  bool ok = lines.line().has_value() && command("USER anonymous") && command("PASS gen@") &&
            command("TYPE I");
  const auto start = Clock::now();
  for (std::uint64_t i = 0; ok && i < spec.count && run.wait_turn(spec, start, i); ++i) {
    ExpectedSession data = session_of(spec, 6, addr, 0, 0);
    data.role = "data";
    Fd data_fd;
    Fd active_listener;
    std::optional<std::string> r;
    if (spec.ftp_mode == FtpMode::Pasv || spec.ftp_mode == FtpMode::Epsv) {
      r = command(spec.ftp_mode == FtpMode::Pasv ? "PASV" : "EPSV");
      std::uint16_t port = 0;
      if (r && r->starts_with("227")) {
        unsigned h[6]{};
        const std::size_t open = r->find('(');
        if (open != std::string::npos &&
            std::sscanf(r->c_str() + open + 1, "%u,%u,%u,%u,%u,%u", &h[0], &h[1], &h[2], &h[3],
                        &h[4], &h[5]) == 6) {
          port = static_cast<std::uint16_t>(h[4] * 256 + h[5]);
        }
      } else if (r && r->starts_with("229")) {
        const std::size_t bars = r->find("|||");
        if (bars != std::string::npos)
          port = static_cast<std::uint16_t>(std::atoi(r->c_str() + bars + 3));
      }
      auto c = port != 0 ? connect_tcp(addr, port) : Result<Fd>(Error{ErrorCode::Io, "no port"});
      if (!c) {
        run.failure(spec, "passive data connection failed");
        continue;
      }
      data.client_port = local_port(c->get());
      data.server_port = port;
      data_fd = std::move(*c);
      r = command(fmt::format("RETR file{}.bin", i + 1));
    } else {
      auto l = listen_tcp(addr, 0);
      if (!l) {
        run.failure(spec, l.error().message);
        continue;
      }
      active_listener = std::move(*l);
      const std::uint16_t p = local_port(active_listener.get());
      data.client_port = p;
      r = command(spec.ftp_mode == FtpMode::Port
                      ? fmt::format("PORT {}", ftp_host_port(addr, p))
                      : fmt::format("EPRT |{}|{}|{}|", addr.is_v4() ? 1 : 2, addr.to_string(), p));
      if (r) r = command(fmt::format("RETR file{}.bin", i + 1));
      if (r && r->starts_with("150"))
        data_fd = accept_until(active_listener.get(), run.servers_stop);
    }
    if (!r || !r->starts_with("150") || !data_fd.valid()) {
      run.failure(spec, "RETR was refused");
      continue;
    }
    auto got = drain(data_fd.get());
    data_fd.reset();
    auto done = lines.line();
    if (!got || *got != spec.size || !done || !done->starts_with("226")) {
      run.failure(spec, "short transfer");
    }
    data_sessions.push_back(data);
    run.event(spec, i + 1);
  }
  if (ok) (void)command("QUIT");
  ctrl->reset();
  run.servers_stop.store(true);
  server.join();

  control.server_payload = server_control_bytes;
  run.add_session(control);
  for (std::size_t k = 0; k < data_sessions.size(); ++k) {
    ExpectedSession& d = data_sessions[k];
    if (k < data_server_side.size()) {
      d.server_payload = data_server_side[k].server_payload;
      // In active mode the server connects: the "client" of the TCP session is the server.
      if (spec.ftp_mode == FtpMode::Port || spec.ftp_mode == FtpMode::Eprt) {
        d.server_port = d.client_port;
        d.client_port = data_server_side[k].server_port;
        d.client_payload = d.server_payload;
        d.server_payload = 0;
      }
    }
    run.add_session(d);
  }
}

}  // namespace flowscope::gen::traffic_detail
