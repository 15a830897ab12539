// The manager helpers and child channels: version, host, positions (as a
// vector of plain structs), open_position, open_basecaller, open_port, and
// a child that outlives its parent.
#include "common.hpp"

using minknow::Channel;
using minknow::Position;
using namespace simtest;

TEST(Manager, VersionAndHost) {
    Channel manager = connect_cert();
    EXPECT_EQ(manager.host(), "127.0.0.1");
    EXPECT_EQ(manager.port(), cert_sim().ready.manager_port);
    minknow::VersionInfo v = manager.version();
    EXPECT_EQ(v.full, "6.3.7-sim");
    EXPECT_EQ(v.major, 6);
    EXPECT_EQ(v.minor, 3);
    EXPECT_EQ(v.patch, 7);
    minknow::HostInfo host = manager.describe_host();
    EXPECT_EQ(host.product_code, "GRD-SIM");
    EXPECT_EQ(host.serial, "SIM0001");
    EXPECT_EQ(host.description, "MinKNOW simulator");
}

TEST(Manager, PositionsMatchTheReadyLine) {
    const Ready &r = cert_sim().ready;
    std::vector<Position> positions = connect_cert().positions();
    ASSERT_EQ(positions.size(), r.positions.size());
    for (std::size_t i = 0; i < positions.size(); ++i) {
        const Position &p = positions[i];
        SCOPED_TRACE(p.name);
        EXPECT_EQ(p.name, r.positions[i].name);
        EXPECT_EQ(p.state_name, r.positions[i].state);
        EXPECT_EQ(p.secure_port, r.positions[i].port);
        EXPECT_EQ(p.running(), p.state_name == "running");
        EXPECT_TRUE(p.is_simulated);
    }
    EXPECT_EQ(positions.at(0).name, "X1");
    EXPECT_EQ(positions.at(1).name, "X2");
    EXPECT_EQ(positions.at(2).name, "X3");
    EXPECT_FALSE(positions.at(2).running());
    EXPECT_EQ(positions.at(2).secure_port, 0);
}

TEST(Children, OpenEachRunningPosition) {
    const Ready &r = cert_sim().ready;
    Channel manager = connect_cert();
    for (const Position &p : manager.positions()) {
        if (!p.running()) continue;
        Channel position = manager.open_position(p.name);
        EXPECT_EQ(position.port(), r.position_port(p.name));
        EXPECT_EQ(position.position_version().full, "6.3.7-sim " + p.name);
        // The same through a raw unary call, decoded by the test's own coder.
        EXPECT_EQ(version_full(position.unary(INSTANCE_VERSION, {}, 10000)),
                  "6.3.7-sim " + p.name);
    }
}

TEST(Children, StoppedAndUnknownPositions) {
    Channel manager = connect_cert();
    auto e = expect_error([&] { manager.open_position("X3"); },
                          MINKNOW_STATUS_POSITION_NOT_RUNNING, {"X3"});
    EXPECT_EQ(e.grpc_status(), -1);
    expect_error([&] { manager.open_position("X9"); }, MINKNOW_STATUS_POSITION_NOT_FOUND,
                 {"X9", "X1", "X2", "X3"});
}

TEST(Children, Basecaller) {
    const Ready &r = cert_sim().ready;
    Channel manager = connect_cert();
    EXPECT_EQ(manager.basecaller_port(), r.basecaller_port);
    Channel basecaller = manager.open_basecaller();
    EXPECT_EQ(basecaller.port(), r.basecaller_port);
    Chunk back = read_chunk(basecaller.unary(ECHO, chunk("to the basecaller", 7)));
    EXPECT_EQ(back.payload, "to the basecaller");
    EXPECT_EQ(back.sequence, 7u);
}

TEST(Children, OpenPortByNumber) {
    const Ready &r = cert_sim().ready;
    Channel x2 = connect_cert().open_port(r.position_port("X2"));
    EXPECT_EQ(x2.position_version().full, "6.3.7-sim X2");
    expect_error([&] { connect_cert().open_port(0); }, MINKNOW_STATUS_INVALID_ARGUMENT, {"port"});
    expect_error([&] { connect_cert().open_port(70000); }, MINKNOW_STATUS_INVALID_ARGUMENT,
                 {"70000"});
}

TEST(Children, OutliveTheirParent) {
    std::optional<Channel> manager(connect_cert());
    Channel x1 = manager->open_position("X1");
    manager.reset();
    EXPECT_EQ(read_chunk(x1.unary(ECHO, chunk("orphan", 1))).payload, "orphan");
    expect_caller(x1, "", "", CLIENT_SUBJECT);
}
