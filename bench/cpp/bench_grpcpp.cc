// The grpc++ benchmark client: what a C++ program does without
// libminknow_auth. SslCredentials with MinKNOW's CA and the "localhost"
// name override, a metadata plugin for the local token (whose path it asks
// the manager for, unauthenticated, on the same channel), stubs generated
// from the project's own proto subset. Same work and output as bench_c:
//
//   bench_grpcpp cold|unary|positions|stream|bidi HOST PORT ...
//
// Written to give grpc++ its best: one channel per port, a non-blocking
// plugin (runs inline, not on grpc's thread pool), 16 MiB limits as the
// reference client.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "minknow_api/instance.grpc.pb.h"
#include "minknow_api/manager.grpc.pb.h"
#include "minknow_sim/test.grpc.pb.h"

extern "C" {
#include "../common.h"
}

namespace {

using minknow_api::instance::InstanceService;
using minknow_api::manager::ManagerService;
using minknow_sim::TestService;

[[noreturn]] void die(const std::string &what, const grpc::Status &s) {
    fprintf(stderr, "bench_grpcpp: %s: %d %s\n", what.c_str(), s.error_code(),
            s.error_message().c_str());
    exit(1);
}

// Sends `local-auth: <token>` once a token is set; nothing before (the
// token path call needs no credentials).
class LocalToken : public grpc::MetadataCredentialsPlugin {
  public:
    bool IsBlocking() const override { return false; }
    grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext &,
                             std::multimap<grpc::string, grpc::string> *metadata) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!token_.empty()) metadata->insert({"local-auth", token_});
        return grpc::Status::OK;
    }
    void set(const std::string &token) {
        std::lock_guard<std::mutex> lock(mutex_);
        token_ = token;
    }

  private:
    std::mutex mutex_;
    std::string token_;
};

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fprintf(stderr, "bench_grpcpp: cannot read %s\n", path.c_str());
        exit(1);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The "token" string of MinKNOW's token file ({"token": "...", "expires": ...}).
std::string token_from_json(const std::string &json) {
    auto key = json.find("\"token\"");
    auto colon = json.find(':', key);
    auto open = json.find('"', colon + 1);
    auto close = json.find('"', open + 1);
    if (key == std::string::npos || close == std::string::npos) {
        fprintf(stderr, "bench_grpcpp: bad token file\n");
        exit(1);
    }
    return json.substr(open + 1, close - open - 1);
}

struct Client {
    std::string host;
    std::shared_ptr<grpc::ChannelCredentials> creds;
    std::shared_ptr<LocalToken> token;  // owned by creds too; kept to set it

    std::shared_ptr<grpc::Channel> channel(int port) const {
        grpc::ChannelArguments args;
        args.SetSslTargetNameOverride("localhost");
        args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
        args.SetMaxSendMessageSize(16 * 1024 * 1024);
        return grpc::CreateCustomChannel(host + ":" + std::to_string(port), creds, args);
    }
};

Client make_client(const std::string &host) {
    const char *ca = getenv("MINKNOW_TRUSTED_CA");
    if (!ca) {
        fprintf(stderr, "bench_grpcpp: set MINKNOW_TRUSTED_CA\n");
        exit(1);
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = read_file(ca);
    auto plugin = std::make_shared<LocalToken>();
    // The plugin object is shared: grpc takes a unique_ptr, so hand it a
    // forwarding wrapper.
    struct Forward : grpc::MetadataCredentialsPlugin {
        std::shared_ptr<LocalToken> inner;
        bool IsBlocking() const override { return false; }
        grpc::Status GetMetadata(grpc::string_ref a, grpc::string_ref b,
                                 const grpc::AuthContext &c,
                                 std::multimap<grpc::string, grpc::string> *m) override {
            return inner->GetMetadata(a, b, c, m);
        }
    };
    auto forward = std::make_unique<Forward>();
    forward->inner = plugin;
    auto creds = grpc::CompositeChannelCredentials(
        grpc::SslCredentials(ssl), grpc::MetadataCredentialsFromPlugin(std::move(forward)));
    return Client{host, creds, plugin};
}

// The manager channel with the local token in place, as minknow_api does it.
std::shared_ptr<grpc::Channel> connect_manager(Client &client, int port) {
    auto channel = client.channel(port);
    auto stub = ManagerService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.set_wait_for_ready(true);
    minknow_api::manager::LocalAuthenticationTokenPathRequest req;
    minknow_api::manager::LocalAuthenticationTokenPathResponse resp;
    auto s = stub->local_authentication_token_path(&ctx, req, &resp);
    if (!s.ok()) die("local_authentication_token_path", s);
    client.token->set(token_from_json(read_file(resp.path())));
    return channel;
}

std::string version(ManagerService::Stub &stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    minknow_api::manager::GetVersionInfoRequest req;
    minknow_api::instance::GetVersionInfoResponse resp;
    auto s = stub.get_version_info(&ctx, req, &resp);
    if (!s.ok()) die("get_version_info", s);
    return resp.minknow().full();
}

int cold(const std::string &host, int port) {
    auto client = make_client(host);
    auto channel = connect_manager(client, port);
    auto stub = ManagerService::NewStub(channel);
    printf("{\"version\":\"%s\"}\n", version(*stub).c_str());
    fflush(stdout);
    return 0;
}

int unary(const std::string &host, int port, int threads, size_t calls) {
    auto client = make_client(host);
    auto channel = connect_manager(client, port);
    auto stub = ManagerService::NewStub(channel);
    for (int i = 0; i < 20; i++) version(*stub);
    size_t per = calls / threads, total = per * threads;
    std::vector<uint64_t> lat(total);
    uint64_t cpu0 = bench_cpu_ns(), t0 = bench_now_ns();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            for (size_t i = 0; i < per; i++) {
                uint64_t a = bench_now_ns();
                version(*stub);
                lat[t * per + i] = bench_now_ns() - a;
            }
        });
    }
    for (auto &th : pool) th.join();
    uint64_t wall = bench_now_ns() - t0, cpu = bench_cpu_ns() - cpu0;
    double p50 = bench_quantile(lat.data(), total, 0.5), p99 = bench_quantile(lat.data(), total, 0.99);
    printf("{\"calls\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"calls_per_s\":%.0f,"
           "\"cpu_us_per_call\":%.2f}\n",
           total, p50 / 1e3, p99 / 1e3, total / (wall / 1e9), cpu / 1e3 / total);
    return 0;
}

// A position channel, proved by instance.get_version_info as minknow_api's
// Connection does.
std::shared_ptr<grpc::Channel> open_position(const Client &client, int port) {
    auto channel = client.channel(port);
    auto stub = InstanceService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    minknow_api::instance::GetVersionInfoRequest req;
    minknow_api::instance::GetVersionInfoResponse resp;
    auto s = stub->get_version_info(&ctx, req, &resp);
    if (!s.ok()) die("position get_version_info", s);
    return channel;
}

int positions(const std::string &host, int port, bool parallel) {
    auto client = make_client(host);
    auto manager = connect_manager(client, port);
    auto stub = ManagerService::NewStub(manager);
    long rss0 = bench_rss_kib();
    uint64_t t0 = bench_now_ns();
    std::vector<int> ports;
    {
        // The manager keeps this stream open to report changes: read until
        // total_count positions have arrived, then cancel.
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        minknow_api::manager::FlowCellPositionsRequest req;
        auto reader = stub->flow_cell_positions(&ctx, req);
        minknow_api::manager::FlowCellPositionsResponse page;
        int seen = 0;
        while (reader->Read(&page)) {
            for (auto &p : page.positions()) {
                seen++;
                if (p.state() == minknow_api::manager::FlowCellPosition::STATE_RUNNING &&
                    p.rpc_ports().secure() != 0)
                    ports.push_back(p.rpc_ports().secure());
            }
            if (seen >= page.total_count()) break;
        }
        ctx.TryCancel();
        reader->Finish();
    }
    std::vector<std::shared_ptr<grpc::Channel>> open(ports.size());
    if (parallel) {
        std::vector<std::thread> pool;
        for (size_t i = 0; i < ports.size(); i++)
            pool.emplace_back([&, i] { open[i] = open_position(client, ports[i]); });
        for (auto &th : pool) th.join();
    } else {
        for (size_t i = 0; i < ports.size(); i++) open[i] = open_position(client, ports[i]);
    }
    uint64_t wall = bench_now_ns() - t0;
    long rss = bench_rss_kib();
    printf("{\"positions\":%zu,\"ms\":%.1f,\"rss_kib\":%ld,\"rss_before_kib\":%ld}\n",
           ports.size(), wall / 1e6, rss, rss0);
    fflush(stdout);
    return 0;
}

int stream(const std::string &host, int port, uint32_t size, uint32_t count) {
    auto client = make_client(host);
    auto channel = connect_manager(client, port);
    auto stub = TestService::NewStub(channel);
    uint64_t cpu0 = bench_cpu_ns(), t0 = bench_now_ns();
    grpc::ClientContext ctx;
    minknow_sim::StreamRequest req;
    req.set_count(count);
    req.set_size(size);
    auto reader = stub->server_stream(&ctx, req);
    minknow_sim::Chunk chunk;
    uint64_t bytes = 0, messages = 0;
    while (reader->Read(&chunk)) {
        bytes += chunk.payload().size();
        messages++;
    }
    auto s = reader->Finish();
    if (!s.ok()) die("server_stream", s);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_cpu_ns() - cpu0;
    if (messages != count || bytes != (uint64_t)size * count) {
        fprintf(stderr, "bench_grpcpp: stream: short\n");
        return 1;
    }
    double mb = bytes / 1e6;
    printf("{\"messages\":%llu,\"mb_per_s\":%.1f,\"cpu_ms_per_mb\":%.3f}\n",
           (unsigned long long)messages, mb / (wall / 1e9), cpu / 1e6 / mb);
    return 0;
}

int bidi(const std::string &host, int port, uint32_t size, uint32_t count) {
    auto client = make_client(host);
    auto channel = connect_manager(client, port);
    auto stub = TestService::NewStub(channel);
    grpc::ClientContext ctx;
    auto rw = stub->bidi_echo(&ctx);
    minknow_sim::Chunk out, in;
    out.set_payload(std::string(size, '\x5a'));
    std::vector<uint64_t> lat(count);
    for (uint32_t i = 0; i < 20 + count; i++) {
        uint64_t t0 = bench_now_ns();
        if (!rw->Write(out) || !rw->Read(&in) || in.payload().size() != size) {
            fprintf(stderr, "bench_grpcpp: bidi: bad echo\n");
            return 1;
        }
        if (i >= 20) lat[i - 20] = bench_now_ns() - t0;
    }
    rw->WritesDone();
    while (rw->Read(&in)) {
    }
    auto s = rw->Finish();
    if (!s.ok()) die("bidi_echo", s);
    printf("{\"round_trips\":%u,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", count,
           bench_quantile(lat.data(), count, 0.5) / 1e3,
           bench_quantile(lat.data(), count, 0.99) / 1e3);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_grpcpp cold|unary|positions|stream|bidi HOST PORT ...\n");
        return 2;
    }
    std::string work = argv[1], host = argv[2];
    int port = atoi(argv[3]);
    if (work == "cold") return cold(host, port);
    if (argc < 5) return 2;
    if (work == "positions") return positions(host, port, std::string(argv[4]) == "par");
    if (argc < 6) return 2;
    long a = atol(argv[4]), b = atol(argv[5]);
    if (work == "unary") return unary(host, port, (int)a, (size_t)b);
    if (work == "stream") return stream(host, port, (uint32_t)a, (uint32_t)b);
    if (work == "bidi") return bidi(host, port, (uint32_t)a, (uint32_t)b);
    fprintf(stderr, "bench_grpcpp: unknown work %s\n", work.c_str());
    return 2;
}
