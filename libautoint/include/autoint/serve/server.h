// autoint-serve's HTTP server: the embedded web page and the JSON API (serve/api.h) of one
// loaded Recommender. The HTTP library stays private to libautoint.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace autoint::recommend {
class Recommender;
}

namespace autoint::serve {

// A file of the web page, compiled into the library from libautoint/assets/serve/.
struct Asset {
  std::string path;               // URL path, e.g. "/" or "/app.js"
  std::string_view content_type;  // with charset for text
  std::string_view body;
};

// Every embedded file; "/" is the page (index.html).
const std::vector<Asset>& assets();

struct ServerOptions {
  std::string host = "127.0.0.1";      // loopback unless told otherwise
  int port = 8080;                     // 0: any free port (see Server::port())
  std::ostream* access_log = nullptr;  // one line per request when set
};

// Binds on construction, serves on listen(). stop() may be called from any thread.
class Server {
 public:
  // Throws autoint::Error naming host:port when the address cannot be bound, and
  // std::invalid_argument for a port outside 0..65535. The recommender must outlive the
  // server.
  Server(const recommend::Recommender& recommender, const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the chosen one when the options asked for 0).
  int port() const;
  // "http://HOST:PORT/".
  std::string url() const;

  // Serves requests until stop(); returns normally after stop().
  void listen();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace autoint::serve
