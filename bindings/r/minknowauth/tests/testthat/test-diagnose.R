# mk_diagnose: the library's report, parsed, with its JSON.

test_that("a working connection is ok at every step", {
    sim <- start_sim("developer-token")
    report <- mk_diagnose("127.0.0.1", sim$manager_port, ca = sim$ca,
                          token = sim$developer_token, use_environment = FALSE)
    expect_s3_class(report, "minknow_report")
    expect_true(is.list(report))
    expect_identical(report$schema, "minknow-auth-doctor/1")
    expect_true(report$ok)
    expect_identical(report$host, "127.0.0.1")
    expect_identical(report$port, as.integer(sim$manager_port))
    expect_null(report$diagnosis)
    steps <- vapply(report$steps, function(s) s$step, "")
    expect_identical(steps, c("resolve", "tcp", "tls", "http2",
                              "unauthenticated_call", "authenticated_call"))
    expect_true(all(vapply(report$steps, function(s) isTRUE(s$ok), TRUE)))
    expect_match(report$steps[[3]]$details$verified_by$source, sim$ca, fixed = TRUE)

    json <- attr(report, "json")
    expect_type(json, "character")
    expect_identical(jsonlite::fromJSON(json)$port, report$port)
    expect_false(grepl(sim$developer_token, json, fixed = TRUE))
    text <- format(report)
    expect_true(any(grepl("^\\[ok  \\] authenticated_call", text)))
    expect_output(print(report), "result: connected and authenticated", fixed = TRUE)
})

test_that("a wrong CA is diagnosed as wrong_ca at tls", {
    sim <- start_sim()
    report <- mk_diagnose("127.0.0.1", sim$manager_port, ca = sim$client_ca,
                          use_environment = FALSE)
    expect_false(report$ok)
    expect_identical(report$diagnosis$step, "tls")
    expect_identical(report$diagnosis$cause, "wrong_ca")
    expect_match(report$diagnosis$message, as.character(sim$manager_port), fixed = TRUE)
    expect_true(nzchar(report$diagnosis$fix))
    last <- report$steps[[length(report$steps)]]
    expect_identical(last$step, "tls")
    expect_false(last$ok)
    expect_output(print(report), "failed at tls (wrong_ca)", fixed = TRUE)
})

test_that("bad arguments are errors; a malformed host is a report", {
    # Nothing is dialled: the host is not a host.
    report <- mk_diagnose("not a host", use_environment = FALSE)
    expect_identical(report$port, 9502L)
    expect_identical(report$diagnosis$step, "resolve")
    expect_error(mk_diagnose(port = 70000), "0 to 65535")
    expect_minknow_error(mk_diagnose("not a host", cert = "chain.pem"),
                         "INCOMPLETE_IDENTITY")
    expect_minknow_error(mk_diagnose("not a host", token = "has spaces\n"),
                         "INVALID_ARGUMENT")
})
