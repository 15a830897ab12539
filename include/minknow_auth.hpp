// libminknow_auth for C++17: a header-only layer over the C API in
// minknow_auth.h. There is no logic here beyond conversion: every
// behaviour, and its documentation (blocking, limits, errors), is the C
// function's of the same name.
//
//   #include <minknow_auth.hpp>
//
//   auto manager = minknow::Channel::connect_with_certificate(
//       "localhost", MINKNOW_PORT_DEFAULT, "client-chain.pem", "client-key.pem");
//   for (const minknow::Position &p : manager.positions()) ...
//
// Conventions, everywhere below:
//
// - Ownership. Options, Channel and Call each own one C handle and free it
//   in their destructor. They are move-only. Everything else (Bytes,
//   VersionInfo, HostInfo, Position) is a plain value copied out of the C
//   object, which is freed at once.
// - Inputs. Strings are std::string_view and bytes a ByteView (pointer and
//   size, or a std::string, std::string_view or std::vector<uint8_t>);
//   both are borrowed for the call only. A string holding a NUL byte
//   cannot reach C intact, so it throws Error with
//   MINKNOW_STATUS_INVALID_ARGUMENT instead of being cut short.
// - Errors. Every failure throws minknow::Error (a std::runtime_error):
//   status() is the minknow_status, grpc_status() the gRPC code the call
//   ended with (-1 when there was none), what() the C error's message.
//   The end of a stream is not an error: Call::recv returns std::nullopt.
// - Moved-from objects hold no handle. Using one is not undefined: every
//   member that can fail throws Error with MINKNOW_STATUS_NULL_ARGUMENT
//   (the C function's answer to a NULL handle), and the members that
//   cannot fail are no-ops with empty answers (Channel::host() is "",
//   Channel::port() is 0, Call::cancel() does nothing). explicit operator
//   bool says whether an object still holds its handle. Assigning to a
//   moved-from object makes it usable again.
// - Threads are the C API's: a Channel or Call may be used from several
//   threads at once (Call::cancel from any thread while another blocks in
//   Call::recv), but must not be destroyed, moved or assigned to while
//   another thread uses it. An Options object is for one thread at a time.
#ifndef MINKNOW_AUTH_HPP
#define MINKNOW_AUTH_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "minknow_auth.h"

namespace minknow {

// A library failure: the status, the gRPC status (-1 when the failure was
// not a gRPC status) and the message, which names the file, variable, host
// or port at fault and never holds a token, key or certificate.
class Error : public std::runtime_error {
public:
    Error(minknow_status status, int grpc_status, const std::string &message)
        : std::runtime_error(message), status_(status), grpc_status_(grpc_status) {}

    minknow_status status() const noexcept { return status_; }
    int grpc_status() const noexcept { return grpc_status_; }
    // A short static name for status() ("unauthenticated", ...).
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
    ByteView(const void *bytes, std::size_t length)
        : data(static_cast<const std::uint8_t *>(bytes)), size(length) {}
    ByteView(const std::vector<std::uint8_t> &bytes) : data(bytes.data()), size(bytes.size()) {}
    ByteView(std::string_view bytes)
        : data(reinterpret_cast<const std::uint8_t *>(bytes.data())), size(bytes.size()) {}
    ByteView(const std::string &bytes) : ByteView(std::string_view(bytes)) {}
};

// Bytes owned by the caller: a reply or a received message.
using Bytes = std::vector<std::uint8_t>;

struct VersionInfo {
    int major = 0;
    int minor = 0;
    int patch = 0;
    std::string full;
    std::string bream;
    std::string distribution;
};

struct HostInfo {
    std::string product_code;
    std::string description;
    std::string serial;
    std::string network_name;
};

// One flow cell position, as minknow_positions_* reports it.
struct Position {
    std::string name;
    int state = 0;  // MinKNOW's state number; 1 is running
    std::string state_name;
    std::uint16_t secure_port = 0;  // 0 when not running
    std::string error_info;
    bool is_simulated = false;
    bool is_integrated = false;
    std::string parent_name;

    bool running() const noexcept { return state == 1; }
};

namespace detail {

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};

template <typename T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

// Throw the error unless status is OK (or END_OF_STREAM, which only
// minknow_call_recv returns and which is not a failure). Takes ownership
// of err on every path. Call it with the status already in a variable:
// in `check(minknow_f(..., &err), err)` the compiler may read err before
// minknow_f writes it (argument evaluation order is unspecified).
inline void check(minknow_status status, minknow_error *err) {
    Owned<minknow_error, minknow_error_free> owned(err);
    if (status == MINKNOW_STATUS_OK || status == MINKNOW_STATUS_END_OF_STREAM) return;
    std::string message = err ? minknow_error_message(err) : minknow_status_name(status);
    throw Error(status, minknow_error_grpc_status(err), message);
}

// A NUL-terminated copy for a C function; `what` names the argument when
// the text holds a NUL byte, which C would silently cut the string at.
class CString {
public:
    CString(std::string_view text, const char *what) : text_(text) {
        if (text_.find('\0') != std::string::npos) {
            throw Error(MINKNOW_STATUS_INVALID_ARGUMENT, -1,
                        std::string("argument `") + what + "` contains a NUL byte");
        }
    }
    const char *get() const noexcept { return text_.c_str(); }

private:
    std::string text_;
};

// As CString, but an empty string becomes NULL (the C "not given").
class OptionalCString {
public:
    OptionalCString(std::string_view text, const char *what)
        : text_(text, what), empty_(text.empty()) {}
    const char *get() const noexcept { return empty_ ? nullptr : text_.get(); }

private:
    CString text_;
    bool empty_;
};

inline Bytes take(minknow_buffer *buffer) {
    Owned<minknow_buffer, minknow_buffer_free> owned(buffer);
    const std::uint8_t *data = minknow_buffer_data(buffer);
    return data ? Bytes(data, data + minknow_buffer_len(buffer)) : Bytes();
}

inline VersionInfo take(minknow_version_info *info) {
    Owned<minknow_version_info, minknow_version_info_free> owned(info);
    VersionInfo out;
    out.major = minknow_version_info_major(info);
    out.minor = minknow_version_info_minor(info);
    out.patch = minknow_version_info_patch(info);
    out.full = minknow_version_info_full(info);
    out.bream = minknow_version_info_bream(info);
    out.distribution = minknow_version_info_distribution(info);
    return out;
}

inline HostInfo take(minknow_host_info *info) {
    Owned<minknow_host_info, minknow_host_info_free> owned(info);
    HostInfo out;
    out.product_code = minknow_host_info_product_code(info);
    out.description = minknow_host_info_description(info);
    out.serial = minknow_host_info_serial(info);
    out.network_name = minknow_host_info_network_name(info);
    return out;
}

inline std::vector<Position> take(minknow_positions *list) {
    Owned<minknow_positions, minknow_positions_free> owned(list);
    std::vector<Position> out;
    const std::size_t count = minknow_positions_count(list);
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        Position p;
        p.name = minknow_positions_name(list, i);
        p.state = minknow_positions_state(list, i);
        p.state_name = minknow_positions_state_name(list, i);
        p.secure_port = minknow_positions_secure_port(list, i);
        p.error_info = minknow_positions_error_info(list, i);
        p.is_simulated = minknow_positions_is_simulated(list, i);
        p.is_integrated = minknow_positions_is_integrated(list, i);
        p.parent_name = minknow_positions_parent_name(list, i);
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace detail

// Connection options (minknow_options_*). Setters return the object so
// they chain, on a named object (a reference to it) or a temporary (the
// object itself, moved, so nothing can dangle):
//
//   minknow::Options options;
//   options.add_ca_file(ca).developer_token(token);
//   auto same = minknow::Options().add_ca_file(ca).developer_token(token);
class Options {
public:
    Options() {
        minknow_options *raw = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_options_new(&raw, &err);
        detail::check(status, err);
        handle_.reset(raw);
    }

    Options &add_ca_file(std::string_view path) & {
        detail::CString c_path(path, "path");
        return apply(minknow_options_add_ca_file(handle_.get(), c_path.get(), &err_));
    }
    Options add_ca_file(std::string_view path) && {
        add_ca_file(path);
        return std::move(*this);
    }

    Options &add_ca_pem(ByteView pem) & {
        return apply(minknow_options_add_ca_pem(handle_.get(), pem.data, pem.size, &err_));
    }
    Options add_ca_pem(ByteView pem) && {
        add_ca_pem(pem);
        return std::move(*this);
    }

    Options &client_certificate_files(std::string_view chain_path, std::string_view key_path) & {
        detail::CString chain(chain_path, "chain_path");
        detail::CString key(key_path, "key_path");
        return apply(minknow_options_set_client_certificate_files(handle_.get(), chain.get(),
                                                                  key.get(), &err_));
    }
    Options client_certificate_files(std::string_view chain_path, std::string_view key_path) && {
        client_certificate_files(chain_path, key_path);
        return std::move(*this);
    }

    Options &client_certificate_pem(ByteView chain, ByteView key) & {
        return apply(minknow_options_set_client_certificate_pem(handle_.get(), chain.data,
                                                                chain.size, key.data, key.size,
                                                                &err_));
    }
    Options client_certificate_pem(ByteView chain, ByteView key) && {
        client_certificate_pem(chain, key);
        return std::move(*this);
    }

    Options &developer_token(std::string_view token) & {
        detail::CString c_token(token, "token");
        return apply(minknow_options_set_developer_token(handle_.get(), c_token.get(), &err_));
    }
    Options developer_token(std::string_view token) && {
        developer_token(token);
        return std::move(*this);
    }

    Options &protocol_token(std::string_view token) & {
        detail::CString c_token(token, "token");
        return apply(minknow_options_set_protocol_token(handle_.get(), c_token.get(), &err_));
    }
    Options protocol_token(std::string_view token) && {
        protocol_token(token);
        return std::move(*this);
    }

    Options &local_token_mode(minknow_local_token_mode mode) & {
        return apply(minknow_options_set_local_token_mode(handle_.get(),
                                                          static_cast<std::int32_t>(mode), &err_));
    }
    Options local_token_mode(minknow_local_token_mode mode) && {
        local_token_mode(mode);
        return std::move(*this);
    }

    Options &server_name(std::string_view name) & {
        detail::CString c_name(name, "name");
        return apply(minknow_options_set_server_name(handle_.get(), c_name.get(), &err_));
    }
    Options server_name(std::string_view name) && {
        server_name(name);
        return std::move(*this);
    }

    Options &use_environment(bool use) & {
        return apply(minknow_options_set_use_environment(handle_.get(), use, &err_));
    }
    Options use_environment(bool use) && {
        use_environment(use);
        return std::move(*this);
    }

    Options &connect_timeout_ms(std::uint32_t timeout_ms) & {
        return apply(minknow_options_set_connect_timeout_ms(handle_.get(), timeout_ms, &err_));
    }
    Options connect_timeout_ms(std::uint32_t timeout_ms) && {
        connect_timeout_ms(timeout_ms);
        return std::move(*this);
    }

    explicit operator bool() const noexcept { return handle_ != nullptr; }
    const minknow_options *raw() const noexcept { return handle_.get(); }

private:
    // The C setter has just written err_ (NULL on success).
    Options &apply(minknow_status status) {
        minknow_error *err = std::exchange(err_, nullptr);
        detail::check(status, err);
        return *this;
    }

    detail::Owned<minknow_options, minknow_options_free> handle_;
    // Only ever non-NULL between a C setter and apply(); a move copies NULL.
    minknow_error *err_ = nullptr;
};

// A streaming call (minknow_call_*): server-streaming (send the one
// request, close_send, then recv until std::nullopt), client-streaming,
// bidirectional. Destroying a call that is still running cancels it.
class Call {
public:
    // Adopt a handle from minknow_call_start (NULL gives an empty Call).
    explicit Call(minknow_call *raw) noexcept : handle_(raw) {}

    void send(ByteView message) {
        minknow_error *err = nullptr;
        minknow_status status = minknow_call_send(handle_.get(), message.data, message.size, &err);
        detail::check(status, err);
    }
    void close_send() {
        minknow_error *err = nullptr;
        minknow_status status = minknow_call_close_send(handle_.get(), &err);
        detail::check(status, err);
    }
    // The next message, or std::nullopt when the server ended the call with
    // OK. Throws the error the call ended with (CANCELLED after cancel(),
    // DEADLINE_EXCEEDED, ...); once ended, every recv gives the same answer.
    std::optional<Bytes> recv() {
        minknow_buffer *message = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_call_recv(handle_.get(), &message, &err);
        detail::check(status, err);
        if (status == MINKNOW_STATUS_END_OF_STREAM) return std::nullopt;
        return detail::take(message);
    }
    // From any thread, while another blocks in recv(). Never blocks.
    void cancel() const noexcept { minknow_call_cancel(handle_.get()); }

    explicit operator bool() const noexcept { return handle_ != nullptr; }
    const minknow_call *raw() const noexcept { return handle_.get(); }
    // Give up ownership: the caller frees the handle with minknow_call_free.
    minknow_call *release() noexcept { return handle_.release(); }

private:
    detail::Owned<minknow_call, minknow_call_free> handle_;
};

// An authenticated channel to one MinKNOW port: the manager (from
// connect*), a position, the basecaller, or any port (from open_*). A child
// channel stays valid after its parent is destroyed.
class Channel {
public:
    // Adopt a handle from the C API (NULL gives an empty Channel).
    explicit Channel(minknow_channel *raw) noexcept : handle_(raw) {}

    // minknow_connect with all defaults (CA, client identity and tokens
    // from MinKNOW's environment variables and install locations).
    static Channel connect(std::string_view host, int port = MINKNOW_PORT_DEFAULT) {
        return open([&](minknow_channel **out, minknow_error **err) {
            detail::CString c_host(host, "host");
            return minknow_connect(c_host.get(), port, nullptr, out, err);
        });
    }
    // minknow_connect with options. A moved-from Options throws
    // NULL_ARGUMENT here rather than quietly meaning "all defaults".
    static Channel connect(std::string_view host, int port, const Options &options) {
        if (!options) {
            throw Error(MINKNOW_STATUS_NULL_ARGUMENT, -1,
                        "argument `options` is a moved-from minknow::Options");
        }
        return open([&](minknow_channel **out, minknow_error **err) {
            detail::CString c_host(host, "host");
            return minknow_connect(c_host.get(), port, options.raw(), out, err);
        });
    }
    // minknow_connect_with_certificate; an empty ca_path finds MinKNOW's CA.
    static Channel connect_with_certificate(std::string_view host, int port,
                                            std::string_view chain_path,
                                            std::string_view key_path,
                                            std::string_view ca_path = {}) {
        return open([&](minknow_channel **out, minknow_error **err) {
            detail::CString c_host(host, "host");
            detail::OptionalCString c_ca(ca_path, "ca_path");
            detail::CString c_chain(chain_path, "chain_path");
            detail::CString c_key(key_path, "key_path");
            return minknow_connect_with_certificate(c_host.get(), port, c_ca.get(),
                                                    c_chain.get(), c_key.get(), out, err);
        });
    }
    // minknow_connect_with_token; an empty ca_path finds MinKNOW's CA.
    static Channel connect_with_token(std::string_view host, int port, std::string_view token,
                                      std::string_view ca_path = {}) {
        return open([&](minknow_channel **out, minknow_error **err) {
            detail::CString c_host(host, "host");
            detail::OptionalCString c_ca(ca_path, "ca_path");
            detail::CString c_token(token, "token");
            return minknow_connect_with_token(c_host.get(), port, c_ca.get(), c_token.get(),
                                              out, err);
        });
    }

    std::string host() const { return minknow_channel_host(handle_.get()); }
    std::uint16_t port() const noexcept { return minknow_channel_port(handle_.get()); }

    // The manager's version (ManagerService/get_version_info).
    VersionInfo version() const {
        minknow_version_info *info = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_manager_version(handle_.get(), &info, &err);
        detail::check(status, err);
        return detail::take(info);
    }
    // On a position channel: InstanceService/get_version_info.
    VersionInfo position_version() const {
        minknow_version_info *info = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_position_version(handle_.get(), &info, &err);
        detail::check(status, err);
        return detail::take(info);
    }
    HostInfo describe_host() const {
        minknow_host_info *info = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_manager_describe_host(handle_.get(), &info, &err);
        detail::check(status, err);
        return detail::take(info);
    }
    std::vector<Position> positions() const {
        minknow_positions *list = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_manager_positions(handle_.get(), &list, &err);
        detail::check(status, err);
        return detail::take(list);
    }
    std::uint16_t basecaller_port() const {
        std::uint16_t port = 0;
        minknow_error *err = nullptr;
        minknow_status status = minknow_manager_basecaller_port(handle_.get(), &port, &err);
        detail::check(status, err);
        return port;
    }

    Channel open_position(std::string_view name) const {
        return open([&](minknow_channel **out, minknow_error **err) {
            detail::CString c_name(name, "name");
            return minknow_channel_open_position(handle_.get(), c_name.get(), out, err);
        });
    }
    Channel open_basecaller() const {
        return open([&](minknow_channel **out, minknow_error **err) {
            return minknow_channel_open_basecaller(handle_.get(), out, err);
        });
    }
    Channel open_port(int port) const {
        return open([&](minknow_channel **out, minknow_error **err) {
            return minknow_channel_open_port(handle_.get(), port, out, err);
        });
    }

    // A unary call to `method` ("/package.Service/method") with serialized
    // protobuf; the reply's bytes. timeout_ms 0: no deadline.
    Bytes unary(std::string_view method, ByteView request = {},
                std::uint32_t timeout_ms = 0) const {
        detail::CString c_method(method, "method");
        minknow_buffer *reply = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = minknow_unary(handle_.get(), c_method.get(), request.data,
                                              request.size, timeout_ms, &reply, &err);
        detail::check(status, err);
        return detail::take(reply);
    }
    // Start a streaming call; timeout_ms 0: no deadline. Returns at once.
    Call start_call(std::string_view method, std::uint32_t timeout_ms = 0) const {
        detail::CString c_method(method, "method");
        minknow_call *raw = nullptr;
        minknow_error *err = nullptr;
        minknow_status status =
            minknow_call_start(handle_.get(), c_method.get(), timeout_ms, &raw, &err);
        detail::check(status, err);
        return Call(raw);
    }

    explicit operator bool() const noexcept { return handle_ != nullptr; }
    const minknow_channel *raw() const noexcept { return handle_.get(); }
    // Give up ownership: the caller frees the handle with minknow_channel_free.
    minknow_channel *release() noexcept { return handle_.release(); }

private:
    // Run a C function that makes a channel; own its result or throw.
    template <typename Make>
    static Channel open(Make make) {
        minknow_channel *raw = nullptr;
        minknow_error *err = nullptr;
        minknow_status status = make(&raw, &err);
        detail::check(status, err);
        return Channel(raw);
    }

    detail::Owned<minknow_channel, minknow_channel_free> handle_;
};

// minknow_diagnose: dial the manager on `host` at `port` step by step, the
// way Channel::connect would with `options` (nullptr: all defaults), and
// return the report as JSON text ("schema": "minknow-auth-doctor/1"; its
// layout is in README.md, "When it does not connect"). A failed connection
// is not an exception: the report's "ok" is false and its "diagnosis"
// names the step, the cause and the fix. Show the text to users, or parse
// it with the JSON library of your choice. It names files, variables and
// token sources, never a token, key or certificate. Blocks for up to the
// connect timeout of `options` (10 s unless set). Throws Error for bad
// arguments (NULL_ARGUMENT for a moved-from Options, INVALID_ARGUMENT for
// a port out of range or a NUL in `host`).
inline std::string diagnose(std::string_view host, int port = MINKNOW_PORT_DEFAULT,
                            const Options *options = nullptr) {
    if (options != nullptr && !*options) {
        throw Error(MINKNOW_STATUS_NULL_ARGUMENT, -1,
                    "argument `options` is a moved-from minknow::Options");
    }
    detail::CString c_host(host, "host");
    minknow_buffer *report = nullptr;
    minknow_error *err = nullptr;
    minknow_status status = minknow_diagnose(
        c_host.get(), port, options != nullptr ? options->raw() : nullptr, &report, &err);
    detail::check(status, err);

    detail::Owned<minknow_buffer, minknow_buffer_free> owned(report);
    const std::uint8_t *data = minknow_buffer_data(report);
    if (data == nullptr) return std::string();
    return std::string(reinterpret_cast<const char *>(data), minknow_buffer_len(report));
}

// Receives the library's log messages: the level and the text (valid for
// the call only; it never holds a token, key or certificate).
using LogHandler = std::function<void(minknow_log_level level, std::string_view message)>;

namespace detail {

inline void deliver_log(void *handler, std::int32_t level, const char *message) {
    try {
        (*static_cast<LogHandler *>(handler))(static_cast<minknow_log_level>(level),
                                              message ? message : "");
    } catch (...) {
        // An exception must not unwind into the library's Rust frames.
    }
}

inline void destroy_log_handler(void *handler) { delete static_cast<LogHandler *>(handler); }

}  // namespace detail

// Send log messages up to max_level to `handler` (minknow_set_log_callback),
// replacing the previous handler (destroyed once no message is being
// delivered to it) and MINKNOW_AUTH_LOG's stderr logging. The handler is
// called from any thread, several at once: it must be thread-safe and must
// not call into the library; an exception it throws is dropped. An empty
// handler or MINKNOW_LOG_LEVEL_OFF stops logging. A level outside the enum
// throws INVALID_ARGUMENT.
inline void set_log_handler(minknow_log_level max_level, LogHandler handler) {
    if (max_level < MINKNOW_LOG_LEVEL_OFF || max_level > MINKNOW_LOG_LEVEL_TRACE) {
        throw Error(MINKNOW_STATUS_INVALID_ARGUMENT, -1,
                    "argument `max_level` = " + std::to_string(static_cast<int>(max_level)) +
                        " is not a minknow_log_level");
    }
    minknow_error *err = nullptr;
    if (!handler || max_level == MINKNOW_LOG_LEVEL_OFF) {
        minknow_status status =
            minknow_set_log_callback(MINKNOW_LOG_LEVEL_OFF, nullptr, nullptr, nullptr, &err);
        detail::check(status, err);
        return;
    }
    // The library owns the handler from the call on, on its error paths
    // too (it destroys it before returning), so it is released first:
    // freeing it here after a failure would free it twice.
    auto *owned = new LogHandler(std::move(handler));
    minknow_status status =
        minknow_set_log_callback(static_cast<std::int32_t>(max_level), &detail::deliver_log,
                                 owned, &detail::destroy_log_handler, &err);
    detail::check(status, err);
}

// Stop logging (the handler is destroyed once no message is being
// delivered to it).
inline void stop_logging() { set_log_handler(MINKNOW_LOG_LEVEL_OFF, nullptr); }

// The library's version at run time, "MAJOR.MINOR.PATCH".
inline std::string library_version() { return minknow_auth_version(); }

// The version this header was written for, MAJOR * 10000 + MINOR * 100 + PATCH.
inline constexpr std::uint32_t header_version_number =
    MINKNOW_AUTH_VERSION_MAJOR * 10000u + MINKNOW_AUTH_VERSION_MINOR * 100u +
    MINKNOW_AUTH_VERSION_PATCH;

// Whether the library loaded at run time is the one this header describes.
inline bool header_matches_library() noexcept {
    return minknow_auth_version_number() == header_version_number;
}

}  // namespace minknow

#endif  // MINKNOW_AUTH_HPP
