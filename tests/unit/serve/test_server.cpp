// autoint-serve's HTTP server over a real loopback socket: the embedded page, the API and
// JSON errors, port selection and stopping.
#include "autoint_catch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/recommend/recommender.h"
#include "autoint/serve/server.h"
#include "tiny_run.h"

using namespace autoint;

namespace {

const recommend::Recommender& server_recommender() {
  static const auto r = recommend::Recommender::from_run(test::tiny_run_dir(), torch::kCPU);
  return r;
}

// One HTTP exchange on 127.0.0.1:port; returns the whole response (head and body).
std::string http(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  // Until the body is complete, not until EOF: the server keeps a connection alive between
  // requests until its idle timeout.
  std::string response;
  char buffer[4096];
  const auto complete = [&] {
    const auto head_end = response.find("\r\n\r\n");
    if (head_end == std::string::npos)
      return false;
    const auto length_at = response.find("Content-Length: ");
    if (length_at == std::string::npos || length_at > head_end)
      return false;  // no length: read to EOF
    return response.size() >= head_end + 4 + std::stoul(response.substr(length_at + 16));
  };
  for (ssize_t n; !complete() && (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;)
    response.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}

std::string body_of(const std::string& response) {
  const auto split = response.find("\r\n\r\n");
  return split == std::string::npos ? "" : response.substr(split + 4);
}

int server_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  // A test that waits for an answer which never comes fails instead of hanging.
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  return fd;
}

// Everything the server sends until it closes the connection or 5 s pass without a byte.
std::string server_read_all(int fd) {
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;)
    response.append(buffer, static_cast<std::size_t>(n));
  return response;
}

std::string server_header(const std::string& response, const std::string& name) {
  const auto head = response.substr(0, response.find("\r\n\r\n"));
  const auto at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos)
    return "";
  const auto begin = at + name.size() + 4;
  return head.substr(begin, head.find("\r\n", begin) - begin);
}

std::string server_error(const std::string& response) {
  return nlohmann::json::parse(body_of(response))["error"].get<std::string>();
}

// A server on a free port, serving on its own thread; stops and joins also when a REQUIRE
// leaves the test early.
serve::ServerOptions server_on_free_port(serve::ServerOptions options) {
  options.port = 0;
  return options;
}

struct ServerServing {
  explicit ServerServing(const serve::ServerOptions& options)
      : server(server_recommender(), server_on_free_port(options)),
        thread([this] { server.listen(); }) {}
  ~ServerServing() {
    server.stop();
    thread.join();
  }
  int port() const { return server.port(); }

  serve::Server server;
  std::thread thread;
};

}  // namespace

TEST_CASE("the page and everything it references are embedded", "[serve]") {
  const auto find = [](std::string_view path) -> const serve::Asset* {
    for (const auto& asset : serve::assets()) {
      if (asset.path == path)
        return &asset;
    }
    return nullptr;
  };
  const auto* page = find("/");
  REQUIRE(page != nullptr);
  CHECK(page->content_type.rfind("text/html", 0) == 0);
  const std::string html(page->body);
  CHECK(html.find("<!doctype html>") == 0);
  for (const std::string path : {"/app.js", "/style.css"}) {
    INFO(path);
    CHECK(html.find("\"" + path + "\"") != std::string::npos);
    const auto* asset = find(path);
    REQUIRE(asset != nullptr);
    CHECK(asset->body.size() > 100);
  }
  // Works offline: nothing is fetched from another host.
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
}

TEST_CASE("the server answers the page, the API and JSON errors on a free port", "[serve]") {
  serve::ServerOptions options;
  options.port = 0;
  serve::Server server(server_recommender(), options);
  REQUIRE(server.port() > 0);
  CHECK(server.url() == "http://127.0.0.1:" + std::to_string(server.port()) + "/");
  // Stops and joins also when a REQUIRE leaves the test early.
  struct Serving {
    serve::Server& server;
    std::thread thread;
    ~Serving() {
      server.stop();
      thread.join();
    }
  } serving{server, std::thread([&] { server.listen(); })};

  const auto page = http(server.port(), "GET / HTTP/1.0\r\n\r\n");
  CHECK(page.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(page.find("Content-Type: text/html") != std::string::npos);
  CHECK(body_of(page).find("<script src=\"/app.js\">") != std::string::npos);

  const auto recs = http(server.port(), "GET /api/users/3/recommendations?top=4 HTTP/1.0\r\n\r\n");
  CHECK(recs.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(recs.find("Content-Type: application/json") != std::string::npos);
  const auto parsed = nlohmann::json::parse(body_of(recs));
  CHECK(parsed["recommendations"].size() == 4);
  CHECK(parsed["recommendations"][0]["movie_id"] ==
        server_recommender().recommend(3, 1)[0].movie_id);

  // Percent-decoding happens in the server; the API sees the decoded value.
  const auto bad_top =
      http(server.port(), "GET /api/users/3/recommendations?top=%31%30%31 HTTP/1.0\r\n\r\n");
  CHECK(bad_top.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(nlohmann::json::parse(body_of(bad_top))["error"].get<std::string>().find("top 101") !=
        std::string::npos);

  const auto missing = http(server.port(), "GET /no/such/page HTTP/1.0\r\n\r\n");
  CHECK(missing.rfind("HTTP/1.1 404", 0) == 0);
  CHECK(nlohmann::json::parse(body_of(missing))["error"].get<std::string>().find(
            "unknown path \"/no/such/page\"") != std::string::npos);

  const auto post = http(server.port(), "POST /api/info HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}");
  CHECK(post.rfind("HTTP/1.1 405", 0) == 0);

  // Garbage instead of HTTP: an error answer, and the server keeps serving.
  const auto garbage = http(server.port(), "\x01\x02 nonsense\r\n\r\n");
  CHECK(garbage.rfind("HTTP/1.1 4", 0) == 0);
  CHECK(http(server.port(), "GET /api/info HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);

  // A second server cannot take the same port.
  serve::ServerOptions same = options;
  same.port = server.port();
  try {
    serve::Server clash(server_recommender(), same);
    FAIL("no error for a port in use");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(server.port())) !=
          std::string::npos);
  }
}

TEST_CASE("server options are checked and stop() before listen() is honoured", "[serve]") {
  serve::ServerOptions options;
  options.port = 70000;
  CHECK_THROWS_AS(serve::Server(server_recommender(), options), std::invalid_argument);
  options.port = 0;
  options.host = "not a host name";
  CHECK_THROWS_AS(serve::Server(server_recommender(), options), Error);
  options.host = "127.0.0.1";
  serve::Server server(server_recommender(), options);
  server.stop();
  server.listen();  // returns at once instead of serving forever
}

TEST_CASE("server answers GET and HEAD only and other methods with 405 and Allow", "[serve]") {
  ServerServing serving({});
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"}) {
    INFO(method);
    const auto response = http(serving.port(), method + " /api/info HTTP/1.0\r\n\r\n");
    CHECK(response.rfind("HTTP/1.1 405", 0) == 0);
    CHECK(server_header(response, "Allow") == "GET, HEAD");
    CHECK(server_error(response).find("method " + method +
                                      " is not allowed on /api/info; "
                                      "expected GET or HEAD") != std::string::npos);
  }
  const auto get = http(serving.port(), "GET /api/info HTTP/1.0\r\n\r\n");
  const int fd = server_connect(serving.port());
  const std::string head = "HEAD /api/info HTTP/1.0\r\n\r\n";
  REQUIRE(::send(fd, head.data(), head.size(), 0) == static_cast<ssize_t>(head.size()));
  const auto head_response = server_read_all(fd);
  ::close(fd);
  CHECK(head_response.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(body_of(head_response).empty());
  CHECK(server_header(head_response, "Content-Length") == std::to_string(body_of(get).size()));
}

TEST_CASE("server ignores Range: the API and the page come whole", "[serve]") {
  ServerServing serving({});
  const auto whole = http(serving.port(), "GET /api/info HTTP/1.0\r\n\r\n");
  const auto ranged = http(serving.port(), "GET /api/info HTTP/1.0\r\nRange: bytes=0-5\r\n\r\n");
  CHECK(ranged.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(body_of(ranged) == body_of(whole));
  CHECK_NOTHROW(nlohmann::json::parse(body_of(ranged)));
  // Many ranges of the whole page once made an 8 KB request answer megabytes.
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 1000; ++i)
    ranges += ",0-";
  const auto page = http(serving.port(), "GET / HTTP/1.0\r\nRange: " + ranges + "\r\n\r\n");
  CHECK(page.rfind("HTTP/1.1 200", 0) == 0);
  const auto asset = std::find_if(serve::assets().begin(), serve::assets().end(),
                                  [](const serve::Asset& a) { return a.path == "/"; });
  REQUIRE(asset != serve::assets().end());
  CHECK(body_of(page) == std::string(asset->body));
}

TEST_CASE("server refuses a query value with a raw equals sign or semicolon naming it", "[serve]") {
  ServerServing serving({});
  const auto equals =
      http(serving.port(), "GET /api/users/3/recommendations?top=50=3 HTTP/1.0\r\n\r\n");
  CHECK(equals.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(server_error(equals).find("query parameter \"top\" has the value \"50=3\"") !=
        std::string::npos);
  const auto semicolon = http(serving.port(), "GET /api/users?limit=5;query=x HTTP/1.0\r\n\r\n");
  CHECK(semicolon.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(server_error(semicolon).find("query parameter \"limit\"") != std::string::npos);
  // Percent-decoding is ours too: %31%30%31 is 101.
  const auto decoded =
      http(serving.port(), "GET /api/users/3/recommendations?top=%31%30%31 HTTP/1.0\r\n\r\n");
  CHECK(server_error(decoded).find("top 101 is out of range") != std::string::npos);
}

TEST_CASE("server refuses Host names other than its own unless allowed", "[serve]") {
  serve::ServerOptions options;
  options.allowed_hosts = {"Allowed.Example"};
  ServerServing serving(options);
  const std::string port = std::to_string(serving.port());
  const auto ask = [&](const std::string& host) {
    return http(serving.port(),
                "GET /api/info HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
  };
  for (const std::string& host :
       std::vector<std::string>{"localhost:" + port, "127.0.0.1:" + port, "LOCALHOST",
                                "allowed.example:" + port, "allowed.example."}) {
    INFO(host);
    CHECK(ask(host).rfind("HTTP/1.1 200", 0) == 0);
  }
  const auto evil = ask("evil.example:" + port);
  CHECK(evil.rfind("HTTP/1.1 421", 0) == 0);
  CHECK(server_error(evil).find("Host \"evil.example\" is not served here") != std::string::npos);
  CHECK(ask("").rfind("HTTP/1.1 400", 0) == 0);
  CHECK(http(serving.port(), "GET /api/info HTTP/1.1\r\nConnection: close\r\n\r\n")
            .rfind("HTTP/1.1 400", 0) == 0);  // HTTP/1.1 needs a Host
  serve::ServerOptions bad;
  bad.allowed_hosts = {"example.org:80"};
  CHECK_THROWS_AS(serve::Server(server_recommender(), bad), std::invalid_argument);
}

TEST_CASE("server refuses large bodies and heads before reading them", "[serve]") {
  ServerServing serving({});
  // Only the heads are sent: the answers must come without the announced bodies.
  const auto post = http(serving.port(),
                         "POST /api/info HTTP/1.1\r\nHost: localhost\r\n"
                         "Content-Length: 200000000\r\n\r\n");
  CHECK(post.rfind("HTTP/1.1 405", 0) == 0);
  CHECK(server_header(post, "Connection") == "close");
  const auto gzip = http(serving.port(),
                         "GET /api/info HTTP/1.1\r\nHost: localhost\r\n"
                         "Content-Encoding: gzip\r\nContent-Length: 204800\r\n\r\n");
  CHECK(gzip.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(server_error(gzip).find("request body of 204800 bytes") != std::string::npos);
  const auto chunked = http(serving.port(),
                            "GET /api/info HTTP/1.1\r\nHost: localhost\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n");
  CHECK(chunked.rfind("HTTP/1.1 411", 0) == 0);
  // A small body is dropped and the request answered.
  const auto small = http(serving.port(),
                          "GET /api/info HTTP/1.0\r\nContent-Length: 10\r\n\r\n"
                          "0123456789");
  CHECK(small.rfind("HTTP/1.1 200", 0) == 0);

  std::string headers;
  for (std::size_t i = 0; i < serve::kMaxHeaderFields; ++i)
    headers += "X-" + std::to_string(i) + ": y\r\n";
  CHECK(http(serving.port(), "GET /api/info HTTP/1.0\r\n" + headers + "\r\n")
            .rfind("HTTP/1.1 200", 0) == 0);
  const auto too_many =
      http(serving.port(), "GET /api/info HTTP/1.0\r\n" + headers + "X: y\r\n\r\n");
  CHECK(too_many.rfind("HTTP/1.1 431", 0) == 0);
  CHECK(server_error(too_many).find("more than 100 header fields") != std::string::npos);
  const auto long_head =
      http(serving.port(),
           "GET /api/info HTTP/1.0\r\nX: " + std::string(serve::kMaxHeadBytes, 'a') + "\r\n\r\n");
  CHECK(long_head.rfind("HTTP/1.1 431", 0) == 0);
  const auto long_line =
      http(serving.port(), "GET /api/users?query=" + std::string(serve::kMaxRequestLineBytes, 'a') +
                               " HTTP/1.0\r\n\r\n");
  CHECK(long_line.rfind("HTTP/1.1 414", 0) == 0);
}

TEST_CASE("server times out slow clients that delay no one and stops within 2 s", "[serve]") {
  serve::ServerOptions options;
  options.request_timeout = std::chrono::milliseconds(1500);
  options.workers = 2;
  auto serving = std::make_unique<ServerServing>(options);
  const int port = serving->port();
  // 16 clients that send one header line every 100 ms and never finish.
  std::vector<int> slow;
  for (int i = 0; i < 16; ++i) {
    slow.push_back(server_connect(port));
    const std::string line = "GET /api/info HTTP/1.1\r\n";
    REQUIRE(::send(slow.back(), line.data(), line.size(), 0) > 0);
  }
  const auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < 3; ++round) {
    for (const int fd : slow)
      ::send(fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
    const auto probe_start = std::chrono::steady_clock::now();
    CHECK(http(port, "GET /api/info HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
    CHECK(std::chrono::steady_clock::now() - probe_start < std::chrono::milliseconds(500));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The deadline counts from the request's first byte, not from the last line.
  const auto timed_out = server_read_all(slow[0]);
  const auto waited = std::chrono::steady_clock::now() - started;
  CHECK(timed_out.rfind("HTTP/1.1 408", 0) == 0);
  CHECK(waited < std::chrono::milliseconds(3000));

  // Clients that never finish their request, or never read their answers (megabytes of
  // pipelined requests fill the socket buffers): stop() still ends listen() within 2 s.
  const int silent = server_connect(port);
  ::send(silent, "GET / HTTP/1.1\r\n", 16, 0);
  const int hog = server_connect(port);
  std::string requests;
  for (int i = 0; i < 2000; ++i)
    requests += "GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n";
  REQUIRE(::send(hog, requests.data(), requests.size(), 0) ==
          static_cast<ssize_t>(requests.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto stop_start = std::chrono::steady_clock::now();
  serving.reset();
  CHECK(std::chrono::steady_clock::now() - stop_start < std::chrono::milliseconds(2000));
  ::close(silent);
  ::close(hog);
  for (const int fd : slow)
    ::close(fd);
}

TEST_CASE("server access log escapes control bytes", "[serve]") {
  std::ostringstream log;
  serve::ServerOptions options;
  options.access_log = &log;
  {
    ServerServing serving(options);
    const auto response = http(serving.port(), "GET /\x1b[2J\x1b]0;owned\x07 HTTP/1.0\r\n\r\n");
    CHECK(response.rfind("HTTP/1.1 400", 0) == 0);
    http(serving.port(), "GET /api/users?query=%1b HTTP/1.0\r\n\r\n");
    http(serving.port(), "\x1b[31mGET / HTTP/1.0\r\n\r\n");
  }
  const std::string text = log.str();
  INFO(text);
  CHECK(std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\n') || byte >= 0x7f;
  }));
  CHECK(text.find("GET /\\x1b[2J\\x1b]0;owned\\x07 400\n") != std::string::npos);
  CHECK(text.find("GET /api/users?query=%1b 200\n") != std::string::npos);
  CHECK(text.find("\\x1b[31mGET / 400\n") != std::string::npos);
}

TEST_CASE("server keeps connections alive and answers pipelined requests in order", "[serve]") {
  ServerServing serving({});
  const int fd = server_connect(serving.port());
  const std::string two =
      "GET /api/users/3 HTTP/1.1\r\nHost: localhost\r\n\r\n"
      "GET /api/users/4 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, two.data(), two.size(), 0) == static_cast<ssize_t>(two.size()));
  const auto both = server_read_all(fd);
  ::close(fd);
  const auto second = both.find("HTTP/1.1 200", 1);
  REQUIRE(both.rfind("HTTP/1.1 200", 0) == 0);
  REQUIRE(second != std::string::npos);
  CHECK(both.find("\"id\":3") < second);
  CHECK(both.find("\"id\":4") > second);
}

TEST_CASE("server refuses each raw request of the bad-input corpus naming the value", "[serve]") {
  const std::string dir = std::string(AUTOINT_SOURCE_DIR) + "/tests/fixtures/bad_inputs/http/";
  std::ifstream table(dir + "cases.txt");
  REQUIRE(table);
  ServerServing serving({});
  int cases = 0;
  for (std::string line; std::getline(table, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    const auto first = line.find(" | ");
    const auto second = line.find(" | ", first + 3);
    REQUIRE(second != std::string::npos);
    const std::string file = line.substr(0, first);
    const int status = std::stoi(line.substr(first + 3, second - first - 3));
    const std::regex expected(line.substr(second + 3));
    INFO(file);
    std::ifstream input(dir + file, std::ios::binary);
    REQUIRE(input);
    const std::string text((std::istreambuf_iterator<char>(input)), {});
    // LF text in the repository, CRLF on the wire; \xHH stands for a raw byte.
    std::string request;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') {
        request += "\r\n";
      } else if (text.compare(i, 2, "\\x") == 0 && i + 3 < text.size()) {
        request += static_cast<char>(std::stoi(text.substr(i + 2, 2), nullptr, 16));
        i += 3;
      } else {
        request += text[i];
      }
    }
    const auto response = http(serving.port(), request);
    CHECK(response.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0) == 0);
    const auto message = server_error(response);
    INFO(message);
    CHECK(std::regex_search(message, expected));
    ++cases;
  }
  CHECK(cases == 21);
}
