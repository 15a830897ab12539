// Hand-written protobuf for the few messages the tests send and read
// (proto/minknow_sim/test.proto and MinKNOW's GetVersionInfoResponse), so
// the library's raw bytes are checked by a coder that is not its own.
#ifndef MINKNOW_AUTH_TEST_PROTO_HPP
#define MINKNOW_AUTH_TEST_PROTO_HPP

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include <minknow_auth.hpp>

namespace simtest {

inline const char *const ECHO = "/minknow_sim.TestService/echo";
inline const char *const SERVER_STREAM = "/minknow_sim.TestService/server_stream";
inline const char *const CLIENT_STREAM = "/minknow_sim.TestService/client_stream";
inline const char *const BIDI_ECHO = "/minknow_sim.TestService/bidi_echo";
inline const char *const WHOAMI = "/minknow_sim.TestService/whoami";
inline const char *const INSTANCE_VERSION =
    "/minknow_api.instance.InstanceService/get_version_info";

class Writer {
public:
    Writer &varint(std::uint32_t field, std::uint64_t value) {
        if (value == 0) return *this;  // proto3 leaves defaults out
        raw_varint(std::uint64_t(field) << 3);
        raw_varint(value);
        return *this;
    }
    Writer &bytes(std::uint32_t field, const std::string &value) {
        if (value.empty()) return *this;
        raw_varint((std::uint64_t(field) << 3) | 2);
        raw_varint(value.size());
        out_.insert(out_.end(), value.begin(), value.end());
        return *this;
    }
    const minknow::Bytes &done() const { return out_; }

private:
    void raw_varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_.push_back(static_cast<std::uint8_t>(v | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<std::uint8_t>(v));
    }
    minknow::Bytes out_;
};

// The fields of one message: varints and length-delimited values by
// number (the last occurrence wins, as protobuf says for scalars).
struct Fields {
    std::map<std::uint32_t, std::uint64_t> varints;
    std::map<std::uint32_t, std::string> bytes;

    std::uint64_t varint(std::uint32_t field) const {
        auto it = varints.find(field);
        return it == varints.end() ? 0 : it->second;
    }
    std::string text(std::uint32_t field) const {
        auto it = bytes.find(field);
        return it == bytes.end() ? std::string() : it->second;
    }
};

inline Fields decode(const std::uint8_t *p, const std::uint8_t *end) {
    auto varint = [&]() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= end) throw std::runtime_error("protobuf: truncated varint");
            std::uint8_t b = *p++;
            v |= std::uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        throw std::runtime_error("protobuf: varint too long");
    };
    Fields f;
    while (p < end) {
        std::uint64_t key = varint();
        auto field = static_cast<std::uint32_t>(key >> 3);
        switch (key & 7) {
        case 0: f.varints[field] = varint(); break;
        case 2: {
            std::uint64_t n = varint();
            if (n > std::uint64_t(end - p)) throw std::runtime_error("protobuf: truncated bytes");
            f.bytes[field] = std::string(reinterpret_cast<const char *>(p), n);
            p += n;
            break;
        }
        case 1:
        case 5: {
            std::ptrdiff_t size = (key & 7) == 1 ? 8 : 4;
            if (end - p < size) throw std::runtime_error("protobuf: truncated fixed field");
            p += size;
            break;
        }
        default: throw std::runtime_error("protobuf: bad wire type");
        }
    }
    return f;
}

inline Fields decode(const minknow::Bytes &message) {
    return decode(message.data(), message.data() + message.size());
}
inline Fields decode(const std::string &message) {
    auto p = reinterpret_cast<const std::uint8_t *>(message.data());
    return decode(p, p + message.size());
}

// minknow_sim.Chunk
inline minknow::Bytes chunk(const std::string &payload, std::uint32_t sequence) {
    return Writer().bytes(1, payload).varint(2, sequence).done();
}
struct Chunk {
    std::string payload;
    std::uint32_t sequence = 0;
};
inline Chunk read_chunk(const minknow::Bytes &message) {
    Fields f = decode(message);
    return {f.text(1), static_cast<std::uint32_t>(f.varint(2))};
}

// minknow_sim.StreamRequest
inline minknow::Bytes stream_request(std::uint32_t count, std::uint32_t size,
                                     std::uint32_t interval_ms) {
    return Writer().varint(1, count).varint(2, size).varint(3, interval_ms).done();
}

// minknow_sim.WhoAmIResponse
struct WhoAmI {
    std::string token_header, token_kind, client_certificate_subject;
    std::uint32_t port = 0;
};
inline WhoAmI whoami(const minknow::Channel &channel) {
    Fields f = decode(channel.unary(WHOAMI, {}, 10000));
    return {f.text(1), f.text(2), f.text(3), static_cast<std::uint32_t>(f.varint(4))};
}

// GetVersionInfoResponse.minknow.full (field 4 of field 1)
inline std::string version_full(const minknow::Bytes &reply) {
    return decode(decode(reply).text(1)).text(4);
}

}  // namespace simtest

#endif  // MINKNOW_AUTH_TEST_PROTO_HPP
