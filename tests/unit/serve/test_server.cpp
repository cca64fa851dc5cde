// autoint-serve's HTTP server over a real loopback socket: the embedded page, the API and
// JSON errors through httplib, port selection and stopping.
#include "autoint_catch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/recommend/recommender.h"
#include "autoint/serve/server.h"
#include "tiny_run.h"

using namespace autoint;

namespace {

const recommend::Recommender& recommender() {
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
  // Until the body is complete, not until EOF: httplib keeps even an unparsable request's
  // connection alive for its 5 s timeout.
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
  serve::Server server(recommender(), options);
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
  CHECK(parsed["recommendations"][0]["movie_id"] == recommender().recommend(3, 1)[0].movie_id);

  // Percent-decoding happens in httplib; the API sees the decoded value.
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
    serve::Server clash(recommender(), same);
    FAIL("no error for a port in use");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(server.port())) !=
          std::string::npos);
  }
}

TEST_CASE("server options are checked and stop() before listen() is honoured", "[serve]") {
  serve::ServerOptions options;
  options.port = 70000;
  CHECK_THROWS_AS(serve::Server(recommender(), options), std::invalid_argument);
  options.port = 0;
  options.host = "not a host name";
  CHECK_THROWS_AS(serve::Server(recommender(), options), Error);
  options.host = "127.0.0.1";
  serve::Server server(recommender(), options);
  server.stop();
  server.listen();  // returns at once instead of serving forever
}
