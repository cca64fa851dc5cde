// Data-parallel training over c10d: the world from the environment, the process group with
// its heartbeat, bucketed gradient allreduce, sharded scoring and the local launcher.
#include "autoint/train/distributed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef AUTOINT_QUIET_GLOG
#include <glog/logging.h>
#endif
#ifdef AUTOINT_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef AUTOINT_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "autoint/error.h"
#include "autoint/eval/evaluate.h"
#include "autoint/util/clock.h"
#include "autoint/util/interrupt.h"

namespace autoint::train {
namespace {

// LibTorch 2 split the process group into a front and per-device Backends; the Gloo and
// NCCL classes derive from whichever holds the collectives.
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

const char* const kHeartbeatKey = "autoint/heartbeat/";
const char* const kJoinedKey = "autoint/joined";
constexpr auto kHeartbeatEvery = std::chrono::milliseconds(500);

// A decimal integer in [low, high], or ConfigError naming where it came from.
int64_t parse_world_int(const std::string& text, const std::string& where, int64_t low,
                        int64_t high, const char* expected) {
  std::size_t used = 0;
  int64_t value = 0;
  bool ok = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
            text.size() <= 9;
  if (ok) {
    value = std::stoll(text, &used);
    ok = used == text.size() && value >= low && value <= high;
  }
  if (!ok) {
    throw ConfigError(fmt::format("{}=\"{}\": expected {}", where, quoted_value(text), expected));
  }
  return value;
}

// The first line of a backend's message, bounded.
std::string first_line(const std::string& text) {
  return quoted_value(text.substr(0, text.find('\n')), 240);
}

}  // namespace

WorldSpec world_from_environment(const std::vector<WorldOverride>& overrides) {
  // Each variable's value and what to call it in errors (the flag or VARIABLE).
  const auto lookup =
      [&](const char* variable) -> std::optional<std::pair<std::string, std::string>> {
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it) {
      if (it->variable == variable)
        return std::make_pair(it->value, it->source);
    }
    if (const char* value = std::getenv(variable))
      return std::make_pair(std::string(value), std::string(variable));
    return std::nullopt;
  };
  WorldSpec world;
  const auto size = lookup("WORLD_SIZE");
  if (!size)
    return world;
  world.launched = true;
  world.world_size =
      parse_world_int(size->first, size->second, 1, 1 << 20, "the number of processes, >= 1");
  const auto rank = lookup("RANK");
  if (!rank) {
    if (world.world_size > 1) {
      throw ConfigError(fmt::format(
          "{}={} but RANK is not set: each process needs its rank, 0 to {} (set RANK or --rank)",
          size->second, world.world_size, world.world_size - 1));
    }
  } else {
    world.rank = parse_world_int(
        rank->first, rank->second, 0, world.world_size - 1,
        fmt::format("a rank from 0 to {} (WORLD_SIZE - 1)", world.world_size - 1).c_str());
  }
  if (const auto local = lookup("LOCAL_RANK")) {
    world.local_rank = parse_world_int(
        local->first, local->second, 0, world.world_size - 1,
        fmt::format("a local rank from 0 to {} (WORLD_SIZE - 1)", world.world_size - 1).c_str());
  } else {
    world.local_rank = world.rank;
  }
  if (const auto addr = lookup("MASTER_ADDR")) {
    if (addr->first.empty() || addr->first.size() > 253 ||
        addr->first.find_first_of(" \t\r\n") != std::string::npos) {
      throw ConfigError(fmt::format("{}=\"{}\": expected a host name or IP address of rank 0",
                                    addr->second, quoted_value(addr->first)));
    }
    world.master_addr = addr->first;
  }
  if (const auto port = lookup("MASTER_PORT"))
    world.master_port = parse_world_int(port->first, port->second, 1, 65535, "a TCP port, 1-65535");
  return world;
}

std::vector<std::string> available_backends() {
  std::vector<std::string> out;
#ifdef AUTOINT_HAVE_GLOO
  out.emplace_back("gloo");
#endif
#ifdef AUTOINT_HAVE_NCCL
  out.emplace_back("nccl");
#endif
  return out;
}

std::string resolve_backend(const std::string& backend, const torch::Device& device) {
  const std::string chosen = backend == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : backend;
  if (chosen == "nccl" && !device.is_cuda()) {
    throw ConfigError(fmt::format(
        "distributed.backend: {}: NCCL runs on CUDA devices only and the device is {}; use gloo "
        "(or auto) on the CPU",
        backend, device.str()));
  }
  const auto have = available_backends();
  if (std::find(have.begin(), have.end(), chosen) == have.end()) {
    throw ConfigError(fmt::format(
        "distributed.backend: {}{}: this build of libautoint has no {} process group (it has: "
        "{}); {}",
        backend, backend == chosen ? "" : " (" + chosen + " on " + device.str() + ")", chosen,
        have.empty() ? std::string("none") : fmt::format("{}", fmt::join(have, ", ")),
        chosen == "nccl" ? "NCCL needs a CUDA build of LibTorch with ProcessGroupNCCL and nccl.h"
                         : "Gloo needs the gloo headers (Debian: libgloo-dev) at configure time"));
  }
  return chosen;
}

struct ProcessGroup::Impl {
  WorldSpec world;
  std::string backend;
  torch::Device device{torch::kCPU};
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Collectives> collectives;
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;

  std::string where() const { return fmt::format("{}:{}", world.master_addr, world.master_port); }

  c10::intrusive_ptr<c10d::Store> connect(bool server) const {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(world.master_port);
    options.isServer = server;
    options.waitWorkers = false;
    options.timeout = timeout;
    return c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
  }

  // Every kHeartbeatEvery, this rank's counter in the store goes up by one, over a
  // connection of its own (a TCPStore client is not shared between threads).
  void beat() {
    try {
      const auto own = connect(false);
      const std::string key = kHeartbeatKey + std::to_string(world.rank);
      std::unique_lock<std::mutex> lock(mutex);
      while (!stopping) {
        lock.unlock();
        own->add(key, 1);
        lock.lock();
        wake.wait_for(lock, kHeartbeatEvery, [&] { return stopping; });
      }
    } catch (const std::exception&) {
      // The store is gone (rank 0 ended): the ranks find out in their next collective.
    }
  }

  // The ranks whose heartbeat stopped, as text, after a failed collective.
  std::string lost_ranks() {
    std::vector<int64_t> before(static_cast<std::size_t>(world.world_size));
    try {
      for (int64_t r = 0; r < world.world_size; ++r)
        before[static_cast<std::size_t>(r)] = store->add(kHeartbeatKey + std::to_string(r), 0);
      std::this_thread::sleep_for(kHeartbeatEvery * 4);
      std::vector<std::string> lost;
      for (int64_t r = 0; r < world.world_size; ++r) {
        if (r != world.rank &&
            store->add(kHeartbeatKey + std::to_string(r), 0) == before[static_cast<std::size_t>(r)])
          lost.push_back(std::to_string(r));
      }
      if (lost.empty())
        return {};
      return fmt::format("rank{} {}", lost.size() > 1 ? "s" : "", fmt::join(lost, ", "));
    } catch (const std::exception&) {
      return world.rank == 0
                 ? std::string()
                 : fmt::format("rank 0 (the rendezvous store it hosted at {} is gone)", where());
    }
  }

  [[noreturn]] void fail(const std::string& what, const std::exception& e) {
    const std::string lost = lost_ranks();
    const std::string message = c10_message(e);
    if (!lost.empty()) {
      throw Error(fmt::format("distributed training lost {} at {} (rank {} of {}, {}: {})", lost,
                              what, world.rank, world.world_size, backend, message));
    }
    throw Error(fmt::format(
        "distributed training failed at {} (rank {} of {}): {}: {}; every rank still sends its "
        "heartbeat, so one fell behind by more than distributed.timeout_s ({} s) or the network "
        "failed",
        what, world.rank, world.world_size, backend, message, timeout.count() / 1000));
  }

  static std::string c10_message(const std::exception& e) {
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&e))
      return first_line(c10->what_without_backtrace());
    return first_line(e.what());
  }

  // Runs one collective on `tensor`, moved to `device` for it (and back) when it lives
  // elsewhere; a failure becomes fail()'s Error.
  template <class Call>
  void in_place(torch::Tensor& tensor, const std::string& what, Call&& call) {
    const bool moved = tensor.device() != device;
    std::vector<at::Tensor> tensors{moved ? tensor.to(device) : tensor};
    try {
      call(tensors)->wait();
    } catch (const std::exception& e) {
      fail(what, e);
    }
    if (moved)
      tensor.copy_(tensors.front());
  }
};

ProcessGroup::ProcessGroup(const WorldSpec& world, const std::string& backend,
                           std::chrono::milliseconds timeout, const torch::Device& device)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.world = world;
  s.backend = backend;
  s.device = backend == "nccl" ? device : torch::Device(torch::kCPU);
  s.timeout = timeout;
  const auto seconds = static_cast<double>(timeout.count()) / 1000.0;
#ifdef AUTOINT_QUIET_GLOG
  // c10d logs every retry of a connection through glog; the errors here say what failed.
  if (std::getenv("GLOG_minloglevel") == nullptr)
    FLAGS_minloglevel = google::GLOG_FATAL;
#endif
  try {
    s.store = s.connect(world.rank == 0);
  } catch (const std::exception& e) {
    throw Error(fmt::format(
        "distributed: rank {} cannot {} the rendezvous store at MASTER_ADDR:MASTER_PORT {} "
        "within distributed.timeout_s {} s: {}",
        world.rank, world.rank == 0 ? "host" : "reach", s.where(), seconds, Impl::c10_message(e)));
  }
  // Everyone checks in, so that a missing rank is named before the backend's rendezvous.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The first exchange has a deadline of its own: a client connected to something that is not
  // a TCPStore (another server on MASTER_PORT) would block in recv forever, and c10d's
  // timeout does not cover that read. The check-in runs on a thread that is left behind
  // (blocked, holding its own reference to the store) when the peer never answers.
  {
    auto task = std::make_shared<std::packaged_task<int64_t()>>(
        [store = s.store] { return store->add(kJoinedKey, 1); });
    std::future<int64_t> checked_in = task->get_future();
    std::thread([task] { (*task)(); }).detach();
    if (checked_in.wait_for(timeout) != std::future_status::ready) {
      throw Error(fmt::format(
          "distributed: rank {} connected to {} but the peer did not answer as a c10d "
          "rendezvous store within distributed.timeout_s {} s: something other than rank 0 of "
          "an autoint run is listening on MASTER_PORT (use another port)",
          world.rank, s.where(), seconds));
    }
    try {
      checked_in.get();
    } catch (const std::exception& e) {
      throw Error(fmt::format("distributed: rank {} lost the rendezvous store at {}: {}",
                              world.rank, s.where(), Impl::c10_message(e)));
    }
  }
  try {
    int64_t joined = 0;
    while ((joined = s.store->add(kJoinedKey, 0)) < world.world_size) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw Error(fmt::format(
            "distributed: only {} of WORLD_SIZE {} ranks joined at {} within distributed.timeout_s "
            "{} s (is every rank started, with the same MASTER_ADDR and MASTER_PORT?)",
            joined, world.world_size, s.where(), seconds));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (joined > world.world_size) {
      throw Error(fmt::format(
          "distributed: {} processes joined at {}, more than WORLD_SIZE {} (two runs on one "
          "MASTER_PORT, or a rank given twice?)",
          joined, s.where(), world.world_size));
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("distributed: rank {} lost the rendezvous store at {}: {}", world.rank,
                            s.where(), Impl::c10_message(e)));
  }
  const auto prefixed = c10::make_intrusive<c10d::PrefixStore>("autoint/pg", s.store);
  try {
    if (backend == "gloo") {
#ifdef AUTOINT_HAVE_GLOO
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // All ranks on this machine: loopback; else the interface this host name resolves to.
      const bool local =
          world.master_addr == "localhost" || world.master_addr.rfind("127.", 0) == 0;
      options->devices.push_back(local
                                     ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
      s.collectives = c10::make_intrusive<c10d::ProcessGroupGloo>(
          prefixed, static_cast<int>(world.rank), static_cast<int>(world.world_size), options);
#endif
    } else if (backend == "nccl") {
#ifdef AUTOINT_HAVE_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      s.collectives = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          prefixed, static_cast<int>(world.rank), static_cast<int>(world.world_size), options);
#endif
    }
  } catch (const std::exception& e) {
    throw Error(fmt::format("distributed: rank {} cannot set up the {} process group: {}",
                            world.rank, backend, Impl::c10_message(e)));
  }
  if (!s.collectives) {
    throw ConfigError(fmt::format("distributed.backend {}: not in this build (it has: {})", backend,
                                  fmt::join(available_backends(), ", ")));
  }
  s.heartbeat = std::thread([&s] { s.beat(); });
}

ProcessGroup::~ProcessGroup() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->heartbeat.joinable())
    impl_->heartbeat.join();
}

int64_t ProcessGroup::rank() const {
  return impl_->world.rank;
}
int64_t ProcessGroup::size() const {
  return impl_->world.world_size;
}
const std::string& ProcessGroup::backend() const {
  return impl_->backend;
}
const torch::Device& ProcessGroup::device() const {
  return impl_->device;
}

void ProcessGroup::allreduce_sum(torch::Tensor& tensor, const std::string& what) {
  impl_->in_place(tensor, what,
                  [&](std::vector<at::Tensor>& t) { return impl_->collectives->allreduce(t); });
}

void ProcessGroup::broadcast(torch::Tensor& tensor, const std::string& what) {
  impl_->in_place(tensor, what,
                  [&](std::vector<at::Tensor>& t) { return impl_->collectives->broadcast(t); });
}

GradientSync::GradientSync(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes)
    : parameters_(parameters) {
  Bucket current;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const int64_t bytes =
        (current.elements + parameters_[i].numel()) * parameters_[i].element_size();
    if (!current.members.empty() && bytes > bucket_bytes) {
      buckets_.push_back(current);
      current = Bucket();
    }
    current.members.push_back(i);
    current.elements += parameters_[i].numel();
  }
  buckets_.push_back(current);  // the last one also carries the extras, even with no parameter
  for (const auto& p : parameters_) {
    if (p.scalar_type() != parameters_.front().scalar_type()) {
      throw std::invalid_argument(
          "GradientSync: parameters of different dtypes cannot share a flat bucket");
    }
  }
}

int64_t GradientSync::bytes_per_step(int64_t extras) const {
  int64_t elements = extras;
  for (const auto& b : buckets_)
    elements += b.elements;
  const int64_t size = parameters_.empty() ? 4 : parameters_.front().element_size();
  return elements * size;
}

torch::Tensor GradientSync::allreduce(ProcessGroup& group, const std::vector<torch::Tensor>& extras,
                                      const std::string& what) {
  torch::NoGradGuard no_grad;
  const torch::TensorOptions options = parameters_.empty()
                                           ? torch::TensorOptions().dtype(torch::kFloat32)
                                           : parameters_.front().options().requires_grad(false);
  const auto start = std::chrono::steady_clock::now();
  torch::Tensor extra_sums;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    const Bucket& bucket = buckets_[b];
    const bool last = b + 1 == buckets_.size();
    std::vector<torch::Tensor> parts;
    parts.reserve(bucket.members.size() + (last ? extras.size() : 0));
    for (const std::size_t i : bucket.members) {
      const torch::Tensor& grad = parameters_[i].grad();
      parts.push_back(grad.defined() ? grad.reshape({-1})
                                     : torch::zeros({parameters_[i].numel()}, options));
    }
    if (last) {
      for (const auto& extra : extras)
        parts.push_back(extra.detach().reshape({1}).to(options.dtype()));
    }
    torch::Tensor flat = torch::cat(parts);
    group.allreduce_sum(flat, what);
    int64_t offset = 0;
    for (const std::size_t i : bucket.members) {
      torch::Tensor& param = parameters_[i];
      const torch::Tensor sum = flat.narrow(0, offset, param.numel()).view_as(param);
      if (param.grad().defined())
        param.mutable_grad().copy_(sum);
      else
        param.mutable_grad() = sum.clone();
      offset += param.numel();
    }
    if (last)
      extra_sums = flat.narrow(0, offset, static_cast<int64_t>(extras.size()));
  }
  seconds_ += util::seconds_since(start);
  return extra_sums;
}

void broadcast_parameters(ProcessGroup& group, nn::AutoInt& model, const std::string& what) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors = model->parameters();
  for (const auto& b : model->buffers())
    tensors.push_back(b);
  // One flat tensor per dtype.
  std::vector<torch::ScalarType> dtypes;
  for (const auto& t : tensors) {
    if (std::find(dtypes.begin(), dtypes.end(), t.scalar_type()) == dtypes.end())
      dtypes.push_back(t.scalar_type());
  }
  for (const auto dtype : dtypes) {
    std::vector<torch::Tensor> parts;
    for (const auto& t : tensors) {
      if (t.scalar_type() == dtype)
        parts.push_back(t.reshape({-1}));
    }
    torch::Tensor flat = torch::cat(parts);
    group.broadcast(flat, what);
    int64_t offset = 0;
    for (auto& t : tensors) {
      if (t.scalar_type() != dtype)
        continue;
      t.copy_(flat.narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

std::pair<int64_t, int64_t> shard_bounds(int64_t rows, int64_t rank, int64_t ranks) {
  return {rows * rank / ranks, rows * (rank + 1) / ranks};
}

torch::Tensor predict_sharded(ProcessGroup& group, nn::AutoInt& model,
                              const data::TensorDataset& dataset, int64_t batch_size,
                              const std::string& what) {
  const int64_t rows = dataset.rows();
  const auto [begin, end] = shard_bounds(rows, group.rank(), group.size());
  data::TensorDataset part;
  part.features = dataset.features.narrow(0, begin, end - begin);
  if (dataset.has_numeric())
    part.numeric = dataset.numeric.narrow(0, begin, end - begin);
  if (dataset.has_history())
    part.history = dataset.history.narrow(0, begin, end - begin);
  torch::Tensor all = torch::zeros({rows}, torch::kFloat32);
  if (end > begin)
    all.narrow(0, begin, end - begin).copy_(predict(model, part, batch_size));
  group.allreduce_sum(all, what);
  return all;
}

namespace {

// A TCP port that was free a moment ago on the loopback interface.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw Error(fmt::format("--nproc: cannot open a socket: {}", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok)
    throw Error(
        fmt::format("--nproc: cannot find a free port on 127.0.0.1: {}", std::strerror(error)));
  return ntohs(address.sin_port);
}

struct Worker {
  int64_t rank = 0;
  pid_t pid = -1;
  int err = -1;            // read end of the worker's stderr
  std::string pending;     // stderr bytes not yet ended by a newline
  std::string error_line;  // its last "...: error: ..." or interrupt line
  bool running = true;
  int status = 0;
  int64_t order = 0;  // when it ended, in order of endings
};

// Forwards a worker's complete stderr lines, keeping back the apps' one-line error report,
// which the launcher's own report quotes instead.
void drain(Worker& w, bool final) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(w.err, buffer, sizeof(buffer));
    if (n <= 0)
      break;
    w.pending.append(buffer, static_cast<std::size_t>(n));
  }
  std::size_t start = 0;
  for (std::size_t nl; (nl = w.pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = w.pending.substr(start, nl - start);
    if (line.find(": error: ") != std::string::npos ||
        line.find(": interrupted ") != std::string::npos)
      w.error_line = line;
    else
      std::fprintf(stderr, "[rank %lld] %s\n", static_cast<long long>(w.rank), line.c_str());
  }
  w.pending.erase(0, start);
  if (final && !w.pending.empty()) {
    w.error_line = w.pending;
    w.pending.clear();
  }
}

std::string describe_end(const Worker& w) {
  std::string how;
  if (WIFSIGNALED(w.status)) {
    how = fmt::format("was killed by signal {} ({})", WTERMSIG(w.status),
                      strsignal(WTERMSIG(w.status)));
  } else {
    how = fmt::format("exited with {}", WEXITSTATUS(w.status));
  }
  std::string line = w.error_line;
  // "autoint-train: error: text" -> "text"
  for (const char* marker : {": error: ", ": "}) {
    const auto at = line.find(marker);
    if (at != std::string::npos) {
      line = line.substr(at + std::strlen(marker));
      break;
    }
  }
  return fmt::format("rank {} (pid {}) {}{}", w.rank, w.pid, how,
                     line.empty() ? std::string() : ": " + line);
}

bool succeeded(const Worker& w) {
  return WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0;
}

}  // namespace

int launch_local_workers(int64_t nproc, const std::string& program,
                         const std::vector<std::string>& args, std::chrono::seconds grace) {
  if (nproc < 1 || nproc > 1024)
    throw ConfigError(fmt::format("--nproc {}: expected 1 to 1024 local processes", nproc));
  const int port = free_port();
  std::vector<Worker> workers(static_cast<std::size_t>(nproc));
  std::fflush(stdout);
  std::fflush(stderr);
  for (int64_t r = 0; r < nproc; ++r) {
    Worker& w = workers[static_cast<std::size_t>(r)];
    w.rank = r;
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0)
      throw Error(fmt::format("--nproc: cannot create a pipe: {}", std::strerror(errno)));
    std::vector<std::string> env{"WORLD_SIZE=" + std::to_string(nproc), "RANK=" + std::to_string(r),
                                 "LOCAL_RANK=" + std::to_string(r), "MASTER_ADDR=127.0.0.1",
                                 "MASTER_PORT=" + std::to_string(port)};
    const pid_t pid = ::fork();
    if (pid < 0)
      throw Error(fmt::format("--nproc: cannot start rank {}: {}", r, std::strerror(errno)));
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphans if the launcher dies
      ::dup2(pipe_fds[1], STDERR_FILENO);
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      if (r != 0)  // one console: rank 0's
        ::dup2(::open("/dev/null", O_WRONLY), STDOUT_FILENO);
      for (const auto& e : env)
        ::putenv(const_cast<char*>(e.c_str()));
      // As torchrun: one thread per process unless the user says otherwise.
      ::setenv("OMP_NUM_THREADS", "1", 0);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(program.c_str()));
      for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(program.c_str(), argv.data());
      std::fprintf(stderr, "autoint-train: error: cannot run %s: %s\n", program.c_str(),
                   std::strerror(errno));
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    ::fcntl(pipe_fds[0], F_SETFL, ::fcntl(pipe_fds[0], F_GETFL) | O_NONBLOCK);
    w.pid = pid;
    w.err = pipe_fds[0];
  }

  int64_t ended = 0;
  std::optional<std::chrono::steady_clock::time_point> first_failure;
  bool terminated = false;
  while (ended < nproc) {
    std::vector<pollfd> fds;
    for (const auto& w : workers) {
      if (w.err >= 0)
        fds.push_back({w.err, POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), 100);
    for (auto& w : workers) {
      if (w.err >= 0)
        drain(w, false);
      if (!w.running)
        continue;
      int status = 0;
      if (::waitpid(w.pid, &status, WNOHANG) == w.pid) {
        w.running = false;
        w.status = status;
        w.order = ended++;
        drain(w, true);
        ::close(w.err);
        w.err = -1;
        if (!succeeded(w) && !first_failure)
          first_failure = std::chrono::steady_clock::now();
      }
    }
    if (first_failure && ended < nproc) {
      const auto waited = std::chrono::steady_clock::now() - *first_failure;
      const int signal = waited > grace + std::chrono::seconds(5) ? SIGKILL : SIGTERM;
      if (waited > grace && (!terminated || signal == SIGKILL)) {
        for (const auto& w : workers) {
          if (w.running)
            ::kill(w.pid, signal);
        }
        terminated = true;
      }
    }
  }
  std::vector<const Worker*> failed;
  for (const auto& w : workers) {
    if (!succeeded(w))
      failed.push_back(&w);
  }
  if (failed.empty())
    return 0;
  std::sort(failed.begin(), failed.end(),
            [](const Worker* a, const Worker* b) { return a->order < b->order; });
  std::vector<std::string> parts;
  bool all_interrupted = true;
  for (const Worker* w : failed) {
    parts.push_back(describe_end(*w));
    all_interrupted = all_interrupted && WIFEXITED(w->status) && WEXITSTATUS(w->status) == 130;
  }
  if (all_interrupted) {  // every rank stopped at the same step: one report is enough
    std::string line = failed.front()->error_line;
    const auto colon = line.find(": ");
    line = colon == std::string::npos ? line : line.substr(colon + 2);
    throw Interrupted(
        fmt::format("{} (all {} ranks stopped; add --nproc {} to resume)", line, nproc, nproc));
  }
  throw Error(fmt::format("{} of {} local ranks failed; first {}", failed.size(), nproc,
                          fmt::join(parts, "; then ")));
}

}  // namespace autoint::train
