#include "server/http_server.h"
namespace flowscope::server {
std::vector<Route> scrutinizer_routes(Server&) { return {}; }
}  // namespace flowscope::server
