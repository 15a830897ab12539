// Starting minknow-sim from a test and reading its ready line.
//
// The simulator is the one named by $MINKNOW_SIM. Every simulator runs
// with `--lifetime 120 --exit-on-stdin-eof` and its stdin is a pipe only
// this process holds (close-on-exec), so it goes away with the test even
// if the test crashes; the destructor kills it at once. Its files go to a
// fresh directory that the destructor removes.
#ifndef MINKNOW_AUTH_TEST_SIM_HPP
#define MINKNOW_AUTH_TEST_SIM_HPP

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

extern char **environ;

namespace simtest {

// ---- a small JSON reader: the ready line and diagnosis reports ----

struct Json {
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    bool boolean = false;
    double number = 0;
    std::string text;
    std::vector<Json> items;
    std::map<std::string, Json> fields;

    const Json &operator[](const std::string &key) const {
        static const Json null;
        auto it = fields.find(key);
        return it == fields.end() ? null : it->second;
    }
    bool is_null() const { return kind == Kind::Null; }
};

class JsonParser {
public:
    explicit JsonParser(const std::string &input) : s_(input) {}

    Json parse() {
        Json value = parse_value();
        skip_space();
        if (i_ != s_.size()) fail("trailing characters");
        return value;
    }

private:
    [[noreturn]] void fail(const std::string &why) const {
        throw std::runtime_error("not JSON (" + why + " at " + std::to_string(i_) +
                                 "): " + s_);
    }
    void skip_space() {
        while (i_ < s_.size() && std::strchr(" \t\r\n", s_[i_]) != nullptr) ++i_;
    }
    bool consume(const char *word) {
        std::size_t n = std::strlen(word);
        if (s_.compare(i_, n, word) != 0) return false;
        i_ += n;
        return true;
    }
    void expect(char c) {
        skip_space();
        if (i_ >= s_.size() || s_[i_] != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }

    Json parse_value() {
        skip_space();
        if (i_ >= s_.size()) fail("unexpected end");
        Json v;
        char c = s_[i_];
        if (c == '{') {
            v.kind = Json::Kind::Object;
            ++i_;
            skip_space();
            if (i_ < s_.size() && s_[i_] == '}') return ++i_, v;
            for (;;) {
                skip_space();
                std::string key = parse_string();
                expect(':');
                v.fields[key] = parse_value();
                skip_space();
                if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.kind = Json::Kind::Array;
            ++i_;
            skip_space();
            if (i_ < s_.size() && s_[i_] == ']') return ++i_, v;
            for (;;) {
                v.items.push_back(parse_value());
                skip_space();
                if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
                expect(']');
                return v;
            }
        }
        if (c == '"') {
            v.kind = Json::Kind::String;
            v.text = parse_string();
            return v;
        }
        if (consume("null")) return v;
        if (consume("true")) { v.kind = Json::Kind::Bool; v.boolean = true; return v; }
        if (consume("false")) { v.kind = Json::Kind::Bool; return v; }
        std::size_t start = i_;
        while (i_ < s_.size() && std::strchr("+-0123456789.eE", s_[i_]) != nullptr) ++i_;
        if (start == i_) fail("unexpected character");
        v.kind = Json::Kind::Number;
        v.number = std::stod(s_.substr(start, i_ - start));
        return v;
    }

    // Every JSON escape; \uXXXX (surrogate pairs included) becomes UTF-8.
    // The ready line holds paths and names; diagnosis reports may hold
    // any text.
    std::string parse_string() {
        if (i_ >= s_.size() || s_[i_] != '"') fail("expected a string");
        ++i_;
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            char c = s_[i_++];
            if (c != '\\') { out += c; continue; }
            if (i_ >= s_.size()) fail("unfinished escape");
            char e = s_[i_++];
            switch (e) {
            case '"': case '\\': case '/': out += e; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': append_utf8(out, parse_code_point()); break;
            default: fail(std::string("unsupported escape \\") + e);
            }
        }
        if (i_ >= s_.size()) fail("unterminated string");
        ++i_;
        return out;
    }

    static constexpr const char *HEX = "0123456789abcdef";

    // The four hex digits after "\\u", and a low surrogate's after a high one.
    unsigned long parse_code_point() {
        auto hex4 = [this] {
            if (i_ + 4 > s_.size()) fail("short \\u escape");
            unsigned long v = 0;
            for (int k = 0; k < 4; ++k, ++i_) {
                int c = std::tolower(static_cast<unsigned char>(s_[i_]));
                const char *digit = std::strchr(HEX, c);
                if (digit == nullptr || *digit == '\0') fail("bad \\u escape");
                v = v * 16 + static_cast<unsigned long>(digit - HEX);
            }
            return v;
        };
        unsigned long cp = hex4();
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (!consume("\\u")) fail("lone high surrogate");
            unsigned long low = hex4();
            if (low < 0xDC00 || low >= 0xE000) fail("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        return cp;
    }
    static void append_utf8(std::string &out, unsigned long cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    const std::string &s_;
    std::size_t i_ = 0;
};

// ---- the ready line ----

struct ReadyPosition {
    std::string name;
    int port = 0;
    std::string state;
};

struct Ready {
    int manager_port = 0;
    int manager_web_port = 0;
    int basecaller_port = 0;
    std::vector<ReadyPosition> positions;
    std::string ca, client_ca, client_certificate, client_key, dir;
    std::string token_file, developer_token, protocol_token;  // "" when null

    static Ready parse(const std::string &line) {
        Json json = JsonParser(line).parse();
        auto text = [&](const char *key, bool required) {
            const Json &v = json[key];
            if (v.kind == Json::Kind::String) return v.text;
            if (required || !v.is_null())
                throw std::runtime_error(std::string("ready line: no string ") + key + ": " + line);
            return std::string();
        };
        auto port = [&](const Json &object, const char *key) {
            const Json &v = object[key];
            if (v.kind != Json::Kind::Number || v.number < 0 || v.number > 65535)
                throw std::runtime_error(std::string("ready line: no port ") + key + ": " + line);
            return static_cast<int>(v.number);
        };
        Ready r;
        r.manager_port = port(json, "manager_port");
        r.manager_web_port = port(json, "manager_web_port");
        r.basecaller_port = port(json, "basecaller_port");
        for (const Json &p : json["positions"].items) {
            r.positions.push_back({p["name"].text, port(p, "port"), p["state"].text});
        }
        r.ca = text("ca", true);
        r.client_ca = text("client_ca", true);
        r.client_certificate = text("client_certificate", true);
        r.client_key = text("client_key", true);
        r.dir = text("dir", true);
        r.token_file = text("token_file", false);
        r.developer_token = text("developer_token", false);
        r.protocol_token = text("protocol_token", false);
        return r;
    }

    int position_port(const std::string &name) const {
        for (const auto &p : positions) {
            if (p.name == name) return p.port;
        }
        throw std::runtime_error("the ready line has no position " + name);
    }
};

// ---- the process ----

// How long a simulator may take to print its ready line (usually ~50 ms).
constexpr std::chrono::seconds READY_TIMEOUT{30};

class Sim {
public:
    explicit Sim(const std::vector<std::string> &args) {
        const char *binary = std::getenv("MINKNOW_SIM");
        if (binary == nullptr || *binary == '\0')
            throw std::runtime_error("set MINKNOW_SIM to the minknow-sim binary");
        char dir_template[] = "/tmp/minknow-gtest-XXXXXX";
        if (mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = dir_template;

        std::vector<std::string> argv_text{binary, "--lifetime", "120", "--exit-on-stdin-eof",
                                           "--dir", dir_ + "/sim"};
        argv_text.insert(argv_text.end(), args.begin(), args.end());
        std::vector<char *> argv;
        for (auto &a : argv_text) argv.push_back(a.data());
        argv.push_back(nullptr);

        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        if (pipe2(out, O_CLOEXEC) != 0) {
            close(in[0]);
            close(in[1]);
            throw std::runtime_error("pipe2 failed");
        }
        std::string log = dir_ + "/stderr.log";
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0600);
        int spawned = posix_spawn(&pid_, binary, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        if (spawned != 0) {
            close(out[0]);
            pid_ = -1;
            throw std::runtime_error(std::string("cannot start ") + binary + ": " +
                                     std::strerror(spawned));
        }
        std::string line;
        bool got = read_line(out[0], line);
        close(out[0]);  // nothing else comes on stdout
        if (!got) {
            std::string why = "minknow-sim did not print a ready line; stderr:\n" + stderr_text();
            stop();
            throw std::runtime_error(why);
        }
        ready = Ready::parse(line);
    }

    Sim(const Sim &) = delete;
    Sim &operator=(const Sim &) = delete;
    ~Sim() { stop(); }

    std::string stderr_text() const {
        std::string text;
        if (FILE *f = std::fopen((dir_ + "/stderr.log").c_str(), "r")) {
            char chunk[4096];
            std::size_t n;
            while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) text.append(chunk, n);
            std::fclose(f);
        }
        return text;
    }

    Ready ready;

private:
    // One line from fd within READY_TIMEOUT.
    static bool read_line(int fd, std::string &line) {
        auto deadline = std::chrono::steady_clock::now() + READY_TIMEOUT;
        while (line.find('\n') == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd, POLLIN, 0};
            int events = poll(&p, 1, static_cast<int>(left.count()));
            if (events < 0 && errno == EINTR) continue;
            if (events <= 0) return false;
            char chunk[4096];
            ssize_t n = read(fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            line.append(chunk, static_cast<std::size_t>(n));
        }
        line.resize(line.find('\n'));
        return true;
    }

    void stop() {
        if (stdin_ >= 0) close(stdin_);
        stdin_ = -1;
        if (pid_ > 0) {
            kill(pid_, SIGKILL);  // our own child, by its pid
            int status = 0;
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
        pid_ = -1;
        std::error_code ignored;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
    }

    pid_t pid_ = -1;
    int stdin_ = -1;
    std::string dir_;
};

}  // namespace simtest

#endif  // MINKNOW_AUTH_TEST_SIM_HPP
