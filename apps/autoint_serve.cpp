// autoint-serve: the web page and JSON API of a trained run on a local HTTP server.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "app_support.h"
#include "autoint/device.h"
#include "autoint/recommend/recommender.h"
#include "autoint/serve/server.h"

namespace {

// SIGINT/SIGTERM write their number here; a thread reads it and stops the server, so that
// requests in flight finish and main returns normally. (Blocking the signals instead does
// not work: OpenBLAS and LibTorch start threads before main, which would take them.)
int stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int signal) {
  const char byte = static_cast<char>(signal);
  [[maybe_unused]] const ssize_t written = ::write(stop_pipe[1], &byte, 1);
}

}  // namespace

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-serve", [&] {
    cxxopts::Options options("autoint-serve",
                             "Serve a web page and a JSON API (/api/...) with the profiles, "
                             "ratings and recommendations of a run written by autoint-train.");
    autoint::apps::add_run_flags(options);
    options.add_options()("host", "Address to listen on (loopback unless told otherwise)",
                          cxxopts::value<std::string>()->default_value("127.0.0.1"))(
        "p,port", "Port to listen on; 0 picks a free one",
        cxxopts::value<int>()->default_value("8080"))(
        "allow-host",
        "A Host name to answer besides localhost and the listening address (repeatable); "
        "other names are refused against DNS rebinding",
        cxxopts::value<std::vector<std::string>>())("quiet", "Do not log requests to stdout");
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    const std::string run = autoint::apps::run_flag(flags);
    const int port = flags["port"].as<int>();
    if (port < 0 || port > 65535) {
      throw cxxopts::exceptions::exception(
          fmt::format("--port must be in 0..65535 (got {})", port));
    }

    const torch::Device device =
        autoint::DeviceSpec::parse(flags["device"].as<std::string>()).resolve();
    const auto recommender = autoint::recommend::Recommender::from_run(
        run, device, flags["data"].as<std::string>(), flags.count("allow-other-data") > 0);
    autoint::serve::ServerOptions server_options;
    server_options.host = flags["host"].as<std::string>();
    server_options.port = port;
    if (flags.count("allow-host"))
      server_options.allowed_hosts = flags["allow-host"].as<std::vector<std::string>>();
    if (!flags.count("quiet"))
      server_options.access_log = &std::cout;
    autoint::serve::Server server(recommender, server_options);

    if (::pipe(stop_pipe) != 0)
      throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    std::thread stopper([&] {
      char signal = 0;
      while (::read(stop_pipe[0], &signal, 1) < 0 && errno == EINTR) {
      }
      if (signal != 0)
        std::cout << fmt::format("autoint-serve: signal {}, stopping\n", int{signal}) << std::flush;
      server.stop();
    });
    std::cout << fmt::format("autoint-serve: run {} ({} users, {} movies) on {}\n", run,
                             recommender.data().users.size(), recommender.data().movies.size(),
                             device.str())
              << fmt::format("autoint-serve: serving at {}\n", server.url()) << std::flush;
    server.listen();
    // listen() also returns when the accept loop fails: wake the stopper so that join() ends.
    const char wake = 0;
    [[maybe_unused]] const ssize_t written = ::write(stop_pipe[1], &wake, 1);
    stopper.join();
    return 0;
  });
}
