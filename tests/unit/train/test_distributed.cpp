// Distributed training's pieces: the world from the environment and flags, backend choice,
// shard bounds, and, with two ranks as threads of this process over Gloo on loopback, the
// bucketed gradient sum, the parameter broadcast and sharded scoring (in builds with Gloo).
#include "autoint_catch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "autoint/error.h"
#include "autoint/eval/evaluate.h"
#include "autoint/train/distributed.h"
#include "test_support.h"

using namespace autoint;
using train::WorldOverride;

namespace {

using test::ScopedEnv;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

#ifdef AUTOINT_TEST_GLOO
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Runs body(group) as ranks 0 and 1 of a Gloo world, one thread each; rethrows the first
// exception. Catch's assertions are not thread-safe: bodies record, the test checks after.
void two_ranks(const std::function<void(train::ProcessGroup&)>& body) {
  const int port = free_port();
  std::exception_ptr errors[2];
  std::vector<std::thread> threads;
  for (int64_t rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        train::WorldSpec world;
        world.world_size = 2;
        world.rank = rank;
        world.local_rank = rank;
        world.master_port = port;
        world.launched = true;
        train::ProcessGroup group(world, "gloo", std::chrono::seconds(20), torch::kCPU);
        body(group);
      } catch (...) {
        errors[rank] = std::current_exception();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (const auto& e : errors) {
    if (e)
      std::rethrow_exception(e);
  }
}

#endif  // AUTOINT_TEST_GLOO

}  // namespace

TEST_CASE("world: one process without WORLD_SIZE; flags override the environment") {
  const ScopedEnv size("WORLD_SIZE", nullptr);
  const ScopedEnv rank("RANK", "3");
  const train::WorldSpec alone = train::world_from_environment();
  CHECK(alone.world_size == 1);
  CHECK_FALSE(alone.distributed());

  const ScopedEnv size4("WORLD_SIZE", "4");
  const ScopedEnv port("MASTER_PORT", "29600");
  const train::WorldSpec w =
      train::world_from_environment({{"MASTER_ADDR", "10.0.0.7", "--master-addr"}});
  CHECK(w.world_size == 4);
  CHECK(w.rank == 3);
  CHECK(w.local_rank == 3);  // LOCAL_RANK defaults to RANK
  CHECK(w.master_addr == "10.0.0.7");
  CHECK(w.master_port == 29600);
  CHECK(w.distributed());
  const train::WorldSpec flags =
      train::world_from_environment({{"RANK", "1", "--rank"}, {"LOCAL_RANK", "0", "--local-rank"}});
  CHECK(flags.rank == 1);
  CHECK(flags.local_rank == 0);

  // A world of one given explicitly still trains through a process group.
  const ScopedEnv one("WORLD_SIZE", "1");
  const ScopedEnv rank0("RANK", "0");
  CHECK(train::world_from_environment().distributed());
}

TEST_CASE("world: bad values name the variable or flag, the value and what was expected") {
  const ScopedEnv size("WORLD_SIZE", "2");
  const ScopedEnv rank("RANK", nullptr);
  const ScopedEnv port("MASTER_PORT", nullptr);
  CHECK_THAT(error_of([] { train::world_from_environment(); }),
             Catch::Contains("WORLD_SIZE=2 but RANK is not set"));
  CHECK_THAT(error_of([] {
               train::world_from_environment({{"RANK", "2", "--rank"}});
             }),
             Catch::Contains("--rank=\"2\": expected a rank from 0 to 1 (WORLD_SIZE - 1)"));
  CHECK_THAT(error_of([] {
               train::world_from_environment({{"RANK", "-1", "--rank"}});
             }),
             Catch::Contains("--rank=\"-1\""));
  CHECK_THAT(error_of([] {
               train::world_from_environment(
                   {{"RANK", "0", "RANK"}, {"MASTER_PORT", "70000", "MASTER_PORT"}});
             }),
             Catch::Contains("MASTER_PORT=\"70000\": expected a TCP port, 1-65535"));
  CHECK_THAT(error_of([] {
               train::world_from_environment({{"WORLD_SIZE", "two", "--world-size"}});
             }),
             Catch::Contains("--world-size=\"two\": expected the number of processes"));
  CHECK_THAT(error_of([] {
               train::world_from_environment({{"WORLD_SIZE", "0", "WORLD_SIZE"}});
             }),
             Catch::Contains("WORLD_SIZE=\"0\""));
}

TEST_CASE("backends: auto is Gloo on the CPU; NCCL on the CPU is an error") {
  CHECK(train::resolve_backend("auto", torch::kCPU) == "gloo");
  CHECK(train::resolve_backend("gloo", torch::kCPU) == "gloo");
  CHECK_THAT(error_of([] { train::resolve_backend("nccl", torch::kCPU); }),
             Catch::Contains("NCCL runs on CUDA devices only"));
}

TEST_CASE("shard bounds cover the rows once, in rank order, sizes within one") {
  for (const int64_t rows : {0, 1, 5, 256, 1001}) {
    for (const int64_t ranks : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int64_t r = 0; r < ranks; ++r) {
        const auto [begin, end] = train::shard_bounds(rows, r, ranks);
        CHECK(begin == next);
        CHECK(end - begin >= rows / ranks);
        CHECK(end - begin <= rows / ranks + 1);
        next = end;
      }
      CHECK(next == rows);
    }
  }
}

#ifdef AUTOINT_TEST_GLOO
TEST_CASE("gradient sync: buckets sum every gradient and the extras over the ranks") {
  // Three parameters of 3, 5 and 2 floats; 24-byte buckets put each in its own bucket.
  std::vector<torch::Tensor> summed[2];
  torch::Tensor extras[2];
  int64_t buckets = 0;
  int64_t bytes = 0;
  two_ranks([&](train::ProcessGroup& group) {
    const double r = static_cast<double>(group.rank());
    std::vector<torch::Tensor> params{torch::zeros({3}, torch::requires_grad()),
                                      torch::zeros({5}, torch::requires_grad()),
                                      torch::zeros({2}, torch::requires_grad())};
    params[0].mutable_grad() = torch::full({3}, 1.0 + r);
    params[1].mutable_grad() = torch::arange(5, torch::kFloat32) * (r + 1);
    // params[2] has no gradient on either rank: it counts as zero.
    train::GradientSync sync(params, 24);
    buckets = sync.buckets();
    bytes = sync.bytes_per_step(2);
    extras[group.rank()] =
        sync.allreduce(group, {torch::tensor(10.0 * (r + 1)), torch::tensor(r)}, "test");
    for (const auto& p : params)
      summed[group.rank()].push_back(p.grad().clone());
  });
  CHECK(buckets == 3);
  CHECK(bytes == (3 + 5 + 2 + 2) * 4);
  for (int r = 0; r < 2; ++r) {
    CHECK(torch::equal(summed[r][0], torch::full({3}, 3.0)));
    CHECK(torch::equal(summed[r][1], torch::arange(5, torch::kFloat32) * 3));
    CHECK(torch::equal(summed[r][2], torch::zeros({2})));
    CHECK(extras[r][0].item<double>() == 30.0);
    CHECK(extras[r][1].item<double>() == 1.0);
  }
  // One large bucket holds everything.
  std::vector<torch::Tensor> params{torch::zeros({3}), torch::zeros({5})};
  CHECK(train::GradientSync(params, 25 << 20).buckets() == 1);
}

TEST_CASE("broadcast gives rank 1 rank 0's weights; sharded scoring equals predict") {
  const auto options = nn::AutoIntOptions(std::vector<int64_t>(4, 7))
                           .embed_dim(4)
                           .num_layers(1)
                           .dnn_hidden_units(std::vector<int64_t>{8});
  torch::manual_seed(1);
  const torch::Tensor features = torch::randint(0, 7, {23, 4}, torch::kInt64);
  data::TensorDataset dataset;
  dataset.features = features;
  std::vector<torch::Tensor> weights[2];
  torch::Tensor sharded[2];
  torch::Tensor plain;
  two_ranks([&](train::ProcessGroup& group) {
    torch::manual_seed(static_cast<uint64_t>(100 + group.rank()));  // different starts
    nn::AutoInt model(options);
    train::broadcast_parameters(group, model, "test");
    for (const auto& p : model->parameters())
      weights[group.rank()].push_back(p.detach().clone());
    sharded[group.rank()] = train::predict_sharded(group, model, dataset, 5, "test");
    if (group.rank() == 0)
      plain = train::predict(model, dataset, 5);
  });
  REQUIRE(weights[0].size() == weights[1].size());
  for (std::size_t i = 0; i < weights[0].size(); ++i)
    CHECK(torch::equal(weights[0][i], weights[1][i]));
  CHECK(torch::equal(sharded[0], sharded[1]));
  CHECK(torch::allclose(sharded[0], plain, 0, 1e-6));
}

TEST_CASE("process group: a rank that never joins is an error within the timeout") {
  // Rank 0 of a world whose rank 1 never comes: an error within the timeout, naming it.
  train::WorldSpec world;
  world.world_size = 2;
  world.master_port = free_port();
  world.launched = true;
  try {
    train::ProcessGroup group(world, "gloo", std::chrono::seconds(1), torch::kCPU);
    FAIL("a world of 2 with one rank connected");
  } catch (const Error& e) {
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("only 1 of WORLD_SIZE 2 ranks joined at 127.0.0.1:") &&
                   Catch::Contains("within distributed.timeout_s 1 s"));
  }
}
#endif  // AUTOINT_TEST_GLOO
