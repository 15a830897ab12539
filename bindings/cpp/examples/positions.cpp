// The main job in C++17: connect to a MinKNOW manager, print its version
// and host, list the flow cell positions, open each running one and ask it
// for its version, and print a table. The C++ twin of examples/positions.c.
//
//   positions [--host H] [--port P] [--ca FILE] [--cert CHAIN --key KEY]
//             [--token DEVELOPER_TOKEN] [--server-name NAME]
//
// Anything not given on the command line comes from MinKNOW's environment
// variables (MINKNOW_TRUSTED_CA, MINKNOW_API_CLIENT_CERTIFICATE_CHAIN,
// MINKNOW_API_CLIENT_KEY, PROTOCOL_TOKEN, ...), as the Python client does.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include <minknow_auth.hpp>

namespace {

int usage(const std::string &why) {
    std::cerr << "positions: " << why << "\n"
              << "usage: positions [--host H] [--port P] [--ca FILE] [--cert CHAIN --key KEY]"
                 " [--token T] [--server-name NAME]\n";
    return 2;
}

minknow::Options options_from(const std::map<std::string, std::string> &args) {
    minknow::Options options;
    if (auto ca = args.find("--ca"); ca != args.end()) options.add_ca_file(ca->second);
    if (args.count("--cert")) options.client_certificate_files(args.at("--cert"), args.at("--key"));
    if (auto token = args.find("--token"); token != args.end())
        options.developer_token(token->second);
    if (auto name = args.find("--server-name"); name != args.end())
        options.server_name(name->second);
    return options;
}

// A running position's own version, or what went wrong asking for it.
std::string version_of(const minknow::Channel &manager, const minknow::Position &position) {
    if (!position.running()) return "-";
    try {
        return manager.open_position(position.name).position_version().full;
    } catch (const minknow::Error &e) {
        return std::string("error: ") + e.what();
    }
}

}  // namespace

int main(int argc, char **argv) {
    std::map<std::string, std::string> args{{"--host", "localhost"}};
    for (int i = 1; i < argc; i += 2) {
        std::string option = argv[i];
        if (i + 1 >= argc) return usage("every option takes a value");
        if (option != "--host" && option != "--port" && option != "--ca" && option != "--cert" &&
            option != "--key" && option != "--token" && option != "--server-name")
            return usage("unknown option " + option);
        args[option] = argv[i + 1];
    }
    if (args.count("--cert") != args.count("--key")) return usage("--cert and --key go together");
    int port = args.count("--port") ? std::atoi(args["--port"].c_str()) : MINKNOW_PORT_DEFAULT;

    if (!minknow::header_matches_library()) {
        std::cerr << "positions: built for libminknow_auth " << MINKNOW_AUTH_VERSION_MAJOR << '.'
                  << MINKNOW_AUTH_VERSION_MINOR << '.' << MINKNOW_AUTH_VERSION_PATCH
                  << " but loaded " << minknow::library_version() << "\n";
        return 1;
    }

    try {
        auto manager = minknow::Channel::connect(args["--host"], port, options_from(args));
        std::cout << "MinKNOW " << manager.version().full << " on " << manager.host() << ':'
                  << manager.port() << " (libminknow_auth " << minknow::library_version()
                  << ")\n";
        auto host = manager.describe_host();
        std::cout << "host: " << host.description << " (" << host.product_code << "), serial "
                  << host.serial << ", network name " << host.network_name << "\n\n";

        std::printf("%-8s %-18s %-6s %-10s %s\n", "POSITION", "STATE", "PORT", "SIMULATED",
                    "VERSION");
        for (const auto &position : manager.positions()) {
            std::printf("%-8s %-18s %-6u %-10s %s\n", position.name.c_str(),
                        position.state_name.c_str(), unsigned(position.secure_port),
                        position.is_simulated ? "yes" : "no",
                        version_of(manager, position).c_str());
        }
    } catch (const minknow::Error &e) {
        std::cerr << "positions: " << e.status_name() << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
