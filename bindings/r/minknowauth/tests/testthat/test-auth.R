# Every auth mode the simulator has, through mk_connect's arguments and
# through MinKNOW's environment variables.

test_that("guest mode: a CA is all it takes", {
    sim <- start_sim("guest")
    conn <- connect_sim(sim)
    expect_s3_class(conn, "minknow_connection")
    expect_identical(mk_version(conn)$full, "6.3.7-sim")
    me <- whoami(conn)
    expect_identical(me$token_header, "")
    expect_identical(me$token_kind, "")
    expect_identical(me$client_certificate_subject, "")
    expect_equal(me$port, sim$manager_port)
    expect_true(mk_close(conn))
})

test_that("developer token: sent as local-auth, to the manager and positions", {
    sim <- start_sim("developer-token", c("--developer-token", "r-dev-token-1"))
    expect_minknow_error(connect_sim(sim), "UNAUTHENTICATED")
    expect_minknow_error(connect_sim(sim, token = "wrong-token"), "UNAUTHENTICATED")
    conn <- connect_sim(sim, token = "r-dev-token-1")
    me <- whoami(conn)
    expect_identical(me$token_header, "local-auth")
    expect_identical(me$token_kind, "developer")
    x1 <- mk_open_position(conn, "X1")
    me <- whoami(x1)
    expect_identical(me$token_kind, "developer")
    expect_equal(me$port, sim$positions$port[sim$positions$name == "X1"])
    expect_identical(mk_version(x1)$full, "6.3.7-sim X1")
})

test_that("local token: read from the manager's file for 127.0.0.1, or not when off", {
    sim <- start_sim("local-token")
    expect_true(file.exists(sim$token_file))
    conn <- connect_sim(sim) # local_token = "auto": 127.0.0.1 is this machine
    me <- whoami(conn)
    expect_identical(me$token_header, "local-auth")
    expect_identical(me$token_kind, "local")
    expect_identical(whoami(mk_open_position(conn, "X2"))$token_kind, "local")
    expect_minknow_error(connect_sim(sim, local_token = "off"), "UNAUTHENTICATED")
    conn_on <- connect_sim(sim, local_token = "on")
    expect_identical(whoami(conn_on)$token_kind, "local")
    expect_error(connect_sim(sim, local_token = "sometimes"), "should be one of")
})

test_that("protocol token: as an argument and from PROTOCOL_TOKEN", {
    sim <- start_sim("protocol-token")
    expect_true(is.character(sim$protocol_token) && nzchar(sim$protocol_token))
    expect_minknow_error(connect_sim(sim), "UNAUTHENTICATED")
    conn <- connect_sim(sim, protocol_token = sim$protocol_token)
    me <- whoami(conn)
    expect_identical(me$token_header, "protocol-auth")
    expect_identical(me$token_kind, "protocol")

    withr::local_envvar(PROTOCOL_TOKEN = sim$protocol_token)
    from_env <- mk_connect("127.0.0.1", sim$manager_port, ca = sim$ca)
    expect_identical(whoami(from_env)$token_kind, "protocol")
    # use_environment = FALSE ignores it.
    expect_minknow_error(connect_sim(sim), "UNAUTHENTICATED")
})

test_that("client certificate: files, PEM text, and the environment", {
    sim <- start_sim("client-cert")
    expect_minknow_error(connect_sim(sim), "UNAUTHENTICATED")
    conn <- connect_sim(sim, cert = sim$client_certificate, key = sim$client_key)
    me <- whoami(conn)
    expect_true(nzchar(me$client_certificate_subject))
    expect_identical(me$token_header, "")
    x1 <- mk_open_position(conn, "X1")
    expect_identical(whoami(x1)$client_certificate_subject, me$client_certificate_subject)

    pem <- function(path) paste(readLines(path), collapse = "\n")
    conn_pem <- connect_sim(sim, ca = pem(sim$ca), cert = pem(sim$client_certificate),
                            key = pem(sim$client_key))
    expect_identical(whoami(conn_pem)$client_certificate_subject,
                     me$client_certificate_subject)

    withr::local_envvar(
        MINKNOW_TRUSTED_CA = sim$ca,
        MINKNOW_API_CLIENT_CERTIFICATE_CHAIN = sim$client_certificate,
        MINKNOW_API_CLIENT_KEY = sim$client_key
    )
    from_env <- mk_connect("127.0.0.1", sim$manager_port)
    expect_identical(whoami(from_env)$client_certificate_subject,
                     me$client_certificate_subject)
})

test_that("several modes at once: any one satisfied is enough", {
    sim <- start_sim("developer-token,client-cert", c("--developer-token", "both-1"))
    conn <- connect_sim(sim, cert = sim$client_certificate, key = sim$client_key,
                        token = "both-1")
    me <- whoami(conn)
    expect_identical(me$token_kind, "developer")
    expect_true(nzchar(me$client_certificate_subject))
})
