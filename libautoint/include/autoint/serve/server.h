// autoint-serve's HTTP server: the embedded web page and the JSON API (serve/api.h) of one
// loaded Recommender, on a small HTTP/1.1 front that bounds what every request may cost.
#pragma once

#include <chrono>
#include <cstddef>
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

// Fixed bounds on what a client may send. The API is GET-only, so a body has no use: a
// small one is read and dropped (to keep the connection's framing), a larger one is refused
// before a byte of it is read, and it is never decompressed.
constexpr std::size_t kMaxBodyBytes = 4096;
constexpr std::size_t kMaxRequestLineBytes = 8192;
constexpr std::size_t kMaxHeadBytes = 32768;  // request line and header fields
constexpr std::size_t kMaxHeaderFields = 100;
constexpr int kListenBacklog = 512;

struct ServerOptions {
  std::string host = "127.0.0.1";      // loopback unless told otherwise
  int port = 8080;                     // 0: any free port (see Server::port())
  std::ostream* access_log = nullptr;  // one line per request when set, control bytes escaped
  // Host header names served besides localhost, 127.0.0.1, [::1], `host` and the address a
  // connection arrived on; any other name is refused (421) so that a page on another site
  // cannot read the API through DNS rebinding.
  std::vector<std::string> allowed_hosts;
  // A request (head and body) must arrive within this from its first byte: one header
  // line every few seconds does not keep a connection forever.
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds idle_timeout{5000};    // between requests on a kept-alive connection
  std::chrono::milliseconds write_timeout{10000};  // for the client to take a whole response
  // Requests in flight get this long to be answered after stop(); then every connection
  // is closed, whatever the clients do.
  std::chrono::milliseconds stop_grace{500};
  int workers = 0;            // threads that compute answers; 0: the hardware's, 2..8
  int max_connections = 512;  // more wait in the listen backlog until one closes
};

// Binds on construction, serves on listen(). stop() may be called from any thread.
// One thread does all socket I/O without blocking (poll), so a slow or silent client holds
// a buffer, never a thread; complete requests are answered by a small pool of workers.
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

  // Serves requests until stop(); returns within stop_grace (plus the time to finish the
  // answers being computed) after stop(). Throws autoint::Error if polling fails.
  void listen();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace autoint::serve
