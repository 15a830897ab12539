# The manager helpers: version, host, positions, position and basecaller
# connections.

test_that("version and host come back as lists of the manager's values", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    v <- mk_version(conn)
    expect_identical(v$major, 6L)
    expect_identical(v$minor, 3L)
    expect_identical(v$patch, 7L)
    expect_identical(v$full, "6.3.7-sim")
    expect_true(nzchar(v$bream))
    expect_true(nzchar(v$distribution))
    h <- mk_host(conn)
    expect_named(h, c("product_code", "description", "serial", "network_name"))
    expect_identical(h$product_code, "GRD-SIM")
    expect_true(nzchar(h$serial))
})

test_that("positions are a data frame with the ready line's ports", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    pos <- mk_positions(conn)
    expect_s3_class(pos, "data.frame")
    expect_identical(pos$name, c("X1", "X2", "X3"))
    expect_identical(pos$state, c("running", "running", "hardware_removed"))
    expect_identical(pos$state_code, c(1L, 1L, 3L))
    expect_identical(pos$secure_port, as.integer(sim$positions$port))
    expect_true(all(pos$secure_port[1:2] > 0L))
    expect_identical(pos$secure_port[3], 0L)
    expect_identical(pos$simulated, c(TRUE, TRUE, TRUE))
    expect_identical(pos$integrated, c(FALSE, FALSE, FALSE))
    expect_identical(pos$error_info[1:2], c("", ""))
    expect_true(nzchar(pos$error_info[3]))
    expect_true(all(c("name", "state", "secure_port", "simulated", "integrated",
                      "error_info", "parent_name") %in% names(pos)))
})

test_that("more positions when the simulator has more", {
    sim <- start_sim("guest", c("--positions", "5", "--stopped", "0"))
    pos <- mk_positions(connect_sim(sim))
    expect_identical(pos$name, paste0("X", 1:5))
    expect_true(all(pos$state == "running"))
})

test_that("a position connection dials the port the manager reports", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    x2 <- mk_open_position(conn, "X2")
    expect_s3_class(x2, "minknow_connection")
    ep <- mk_endpoint(x2)
    expect_identical(ep$host, "127.0.0.1")
    expect_identical(ep$port, as.integer(sim$positions$port[2]))
    expect_identical(ep$kind, "position")
    expect_identical(mk_version(x2)$full, "6.3.7-sim X2")
    expect_output(print(x2), sprintf("<minknow_connection position 127.0.0.1:%d>", ep$port),
                  fixed = TRUE)
    # The position outlives the manager connection.
    mk_close(conn)
    expect_identical(mk_version(x2)$full, "6.3.7-sim X2")

    conn <- connect_sim(sim)
    e <- expect_minknow_error(mk_open_position(conn, "X3"), "POSITION_NOT_RUNNING")
    expect_match(conditionMessage(e), "X3")
    expect_identical(e$status, 501L)
    e <- expect_minknow_error(mk_open_position(conn, "X9"), "POSITION_NOT_FOUND")
    expect_match(conditionMessage(e), "X1")
    x1 <- mk_open_port(conn, sim$positions$port[1])
    expect_identical(mk_endpoint(x1)$kind, "port")
    expect_equal(whoami(x1)$port, sim$positions$port[1])
})

test_that("the basecaller's port and connection", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    expect_identical(mk_basecaller_port(conn), as.integer(sim$basecaller_port))
    bc <- mk_basecaller(conn)
    expect_identical(mk_endpoint(bc)$port, as.integer(sim$basecaller_port))
    expect_identical(mk_endpoint(bc)$kind, "basecaller")
    expect_equal(whoami(bc)$port, sim$basecaller_port)
})

test_that("connections print, close once, and say so afterwards", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    expect_output(print(conn),
                  sprintf("<minknow_connection manager 127.0.0.1:%d>", sim$manager_port),
                  fixed = TRUE)
    expect_true(mk_is_open(conn))
    expect_true(mk_close(conn))
    expect_false(mk_close(conn))
    expect_false(mk_is_open(conn))
    expect_output(print(conn), "<minknow_connection (closed)>", fixed = TRUE)
    expect_null(mk_endpoint(conn))
    expect_match(mk_library_version(), "^[0-9]+\\.[0-9]+\\.[0-9]+$")
})
