// libminknow_auth for C++17: a header-only layer over the C API in
// minknow_auth.h. Move-only RAII types own every handle; failures throw
// minknow::Error, which carries the library status, the gRPC status and
// the message. There is no logic here beyond conversion: every behaviour
// (and its documentation: blocking, threads) is the C function's.
//
//   auto manager = minknow::Channel::connect("localhost", MINKNOW_PORT_DEFAULT,
//       minknow::Options().add_ca_file(ca).client_certificate_files(chain, key));
//   for (const auto &p : manager.positions()) ...
//
// Thread safety is the C API's: a Channel or Call may be used from several
// threads at once (Call::cancel from any thread while another blocks in
// recv), but must not be destroyed or moved while another thread uses it.
#ifndef MINKNOW_AUTH_HPP
#define MINKNOW_AUTH_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "minknow_auth.h"

namespace minknow {

// A library failure: status() is the minknow_status, grpc_status() the gRPC
// code the call ended with (-1 when none), what() the message.
class Error : public std::runtime_error {
public:
    Error(minknow_status status, int grpc_status, const std::string &message)
        : std::runtime_error(message), status_(status), grpc_status_(grpc_status) {}

    minknow_status status() const noexcept { return status_; }
    int grpc_status() const noexcept { return grpc_status_; }
    const char *status_name() const noexcept { return minknow_status_name(status_); }

private:
    minknow_status status_;
    int grpc_status_;
};

// Bytes borrowed for the duration of one call.
struct ByteView {
    const std::uint8_t *data = nullptr;
    std::size_t size = 0;

    ByteView() = default;
    ByteView(const void *d, std::size_t n) : data(static_cast<const std::uint8_t *>(d)), size(n) {}
    ByteView(const std::vector<std::uint8_t> &v) : data(v.data()), size(v.size()) {}
    ByteView(std::string_view s)
        : data(reinterpret_cast<const std::uint8_t *>(s.data())), size(s.size()) {}
};

using Bytes = std::vector<std::uint8_t>;

struct VersionInfo {
    int major = 0, minor = 0, patch = 0;
    std::string full, bream, distribution;
};

struct HostInfo {
    std::string product_code, description, serial, network_name;
};

struct Position {
    std::string name;
    int state = 0;  // MinKNOW's state number; 1 is running
    std::string state_name;
    std::uint16_t secure_port = 0;  // 0 when not running
    std::string error_info;
    bool is_simulated = false;
    bool is_integrated = false;
    std::string parent_name;
};

namespace detail {

// Throw the error if status is not OK, after freeing the C error object.
inline void check(minknow_status status, minknow_error *err) {
    if (status == MINKNOW_STATUS_OK || status == MINKNOW_STATUS_END_OF_STREAM) {
        minknow_error_free(err);
        return;
    }
    std::string message = err ? minknow_error_message(err) : minknow_status_name(status);
    int grpc = minknow_error_grpc_status(err);
    minknow_error_free(err);
    throw Error(status, grpc, message);
}

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};

template <typename T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

// A NUL-terminated copy: C functions take C strings.
inline std::string c_str(std::string_view s) { return std::string(s); }

inline Bytes take(minknow_buffer *buffer) {
    Owned<minknow_buffer, minknow_buffer_free> owned(buffer);
    const std::uint8_t *data = minknow_buffer_data(buffer);
    return Bytes(data, data + minknow_buffer_len(buffer));
}

inline VersionInfo take(minknow_version_info *info) {
    Owned<minknow_version_info, minknow_version_info_free> owned(info);
    return VersionInfo{minknow_version_info_major(info), minknow_version_info_minor(info),
                       minknow_version_info_patch(info), minknow_version_info_full(info),
                       minknow_version_info_bream(info), minknow_version_info_distribution(info)};
}

inline HostInfo take(minknow_host_info *info) {
    Owned<minknow_host_info, minknow_host_info_free> owned(info);
    return HostInfo{minknow_host_info_product_code(info), minknow_host_info_description(info),
                    minknow_host_info_serial(info), minknow_host_info_network_name(info)};
}

inline std::vector<Position> take(minknow_positions *list) {
    Owned<minknow_positions, minknow_positions_free> owned(list);
    std::vector<Position> out;
    for (std::size_t i = 0; i < minknow_positions_count(list); ++i) {
        out.push_back(Position{minknow_positions_name(list, i), minknow_positions_state(list, i),
                               minknow_positions_state_name(list, i),
                               minknow_positions_secure_port(list, i),
                               minknow_positions_error_info(list, i),
                               minknow_positions_is_simulated(list, i),
                               minknow_positions_is_integrated(list, i),
                               minknow_positions_parent_name(list, i)});
    }
    return out;
}

}  // namespace detail

// Connection options; setters return *this so they chain.
class Options {
public:
    Options() {
        minknow_options *raw = nullptr;
        minknow_error *err = nullptr;
        detail::check(minknow_options_new(&raw, &err), err);
        handle_.reset(raw);
    }

    Options &add_ca_file(std::string_view path) {
        return set(minknow_options_add_ca_file(get(), detail::c_str(path).c_str(), err()));
    }
    Options &add_ca_pem(ByteView pem) {
        return set(minknow_options_add_ca_pem(get(), pem.data, pem.size, err()));
    }
    Options &client_certificate_files(std::string_view chain, std::string_view key) {
        return set(minknow_options_set_client_certificate_files(
            get(), detail::c_str(chain).c_str(), detail::c_str(key).c_str(), err()));
    }
    Options &client_certificate_pem(ByteView chain, ByteView key) {
        return set(minknow_options_set_client_certificate_pem(get(), chain.data, chain.size,
                                                              key.data, key.size, err()));
    }
    Options &developer_token(std::string_view token) {
        return set(minknow_options_set_developer_token(get(), detail::c_str(token).c_str(), err()));
    }
    Options &protocol_token(std::string_view token) {
        return set(minknow_options_set_protocol_token(get(), detail::c_str(token).c_str(), err()));
    }
    Options &local_token_mode(minknow_local_token_mode mode) {
        return set(minknow_options_set_local_token_mode(get(), static_cast<int32_t>(mode), err()));
    }
    Options &server_name(std::string_view name) {
        return set(minknow_options_set_server_name(get(), detail::c_str(name).c_str(), err()));
    }
    Options &use_environment(bool use) {
        return set(minknow_options_set_use_environment(get(), use, err()));
    }
    Options &connect_timeout_ms(std::uint32_t ms) {
        return set(minknow_options_set_connect_timeout_ms(get(), ms, err()));
    }

    const minknow_options *raw() const noexcept { return handle_.get(); }

private:
    minknow_options *get() const { return handle_.get(); }
    minknow_error **err() { return &pending_; }
    Options &set(minknow_status status) {
        minknow_error *e = pending_;
        pending_ = nullptr;
        detail::check(status, e);
        return *this;
    }

    detail::Owned<minknow_options, minknow_options_free> handle_;
    minknow_error *pending_ = nullptr;
};

// A streaming call. recv() returns std::nullopt at the end of the stream
// and throws the error the call ended with.
class Call {
public:
    explicit Call(minknow_call *raw) noexcept : handle_(raw) {}

    void send(ByteView message) {
        minknow_error *err = nullptr;
        detail::check(minknow_call_send(handle_.get(), message.data, message.size, &err), err);
    }
    void close_send() {
        minknow_error *err = nullptr;
        detail::check(minknow_call_close_send(handle_.get(), &err), err);
    }
    std::optional<Bytes> recv() {
        minknow_buffer *message = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_call_recv(handle_.get(), &message, &err);
        detail::check(status, err);
        if (status == MINKNOW_STATUS_END_OF_STREAM) return std::nullopt;
        return detail::take(message);
    }
    // Safe from any thread while another blocks in recv().
    void cancel() const noexcept { minknow_call_cancel(handle_.get()); }

    const minknow_call *raw() const noexcept { return handle_.get(); }

private:
    detail::Owned<minknow_call, minknow_call_free> handle_;
};

// An authenticated channel to one MinKNOW port.
class Channel {
public:
    explicit Channel(minknow_channel *raw) noexcept : handle_(raw) {}

    static Channel connect(std::string_view host, int port = MINKNOW_PORT_DEFAULT,
                           const Options *options = nullptr) {
        minknow_channel *raw = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_connect(detail::c_str(host).c_str(), port,
                                                options ? options->raw() : nullptr, &raw, &err);
        detail::check(status, err);
        return Channel(raw);
    }
    static Channel connect(std::string_view host, int port, const Options &options) {
        return connect(host, port, &options);
    }

    std::string host() const { return minknow_channel_host(handle_.get()); }
    std::uint16_t port() const noexcept { return minknow_channel_port(handle_.get()); }

    VersionInfo version() const {
        minknow_version_info *info = nullptr;
        minknow_error *err = nullptr;
        detail::check(minknow_manager_version(get(), &info, &err), err);
        return detail::take(info);
    }
    // On a position channel: InstanceService/get_version_info.
    VersionInfo position_version() const {
        minknow_version_info *info = nullptr;
        minknow_error *err = nullptr;
        detail::check(minknow_position_version(get(), &info, &err), err);
        return detail::take(info);
    }
    HostInfo describe_host() const {
        minknow_host_info *info = nullptr;
        minknow_error *err = nullptr;
        detail::check(minknow_manager_describe_host(get(), &info, &err), err);
        return detail::take(info);
    }
    std::vector<Position> positions() const {
        minknow_positions *list = nullptr;
        minknow_error *err = nullptr;
        detail::check(minknow_manager_positions(get(), &list, &err), err);
        return detail::take(list);
    }
    std::uint16_t basecaller_port() const {
        std::uint16_t port = 0;
        minknow_error *err = nullptr;
        detail::check(minknow_manager_basecaller_port(get(), &port, &err), err);
        return port;
    }

    Channel open_position(std::string_view name) const {
        return child([&](minknow_channel **out, minknow_error **err) {
            return minknow_channel_open_position(get(), detail::c_str(name).c_str(), out, err);
        });
    }
    Channel open_port(int port) const {
        return child([&](minknow_channel **out, minknow_error **err) {
            return minknow_channel_open_port(get(), port, out, err);
        });
    }
    Channel open_basecaller() const {
        return child([&](minknow_channel **out, minknow_error **err) {
            return minknow_channel_open_basecaller(get(), out, err);
        });
    }

    // timeout_ms 0: no deadline.
    Bytes unary(std::string_view method, ByteView request = {},
                std::uint32_t timeout_ms = 0) const {
        minknow_buffer *reply = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_unary(get(), detail::c_str(method).c_str(), request.data,
                                              request.size, timeout_ms, &reply, &err);
        detail::check(status, err);
        return detail::take(reply);
    }
    Call start_call(std::string_view method, std::uint32_t timeout_ms = 0) const {
        minknow_call *raw = nullptr;
        minknow_error *err = nullptr;
        detail::check(
            minknow_call_start(get(), detail::c_str(method).c_str(), timeout_ms, &raw, &err), err);
        return Call(raw);
    }

    const minknow_channel *raw() const noexcept { return handle_.get(); }

private:
    const minknow_channel *get() const noexcept { return handle_.get(); }
    template <typename Open>
    Channel child(Open open) const {
        minknow_channel *raw = nullptr;
        minknow_error *err = nullptr;
        detail::check(open(&raw, &err), err);
        return Channel(raw);
    }

    detail::Owned<minknow_channel, minknow_channel_free> handle_;
};

// The library's version at run time ("MAJOR.MINOR.PATCH").
inline std::string library_version() { return minknow_auth_version(); }

}  // namespace minknow

#endif  // MINKNOW_AUTH_HPP
