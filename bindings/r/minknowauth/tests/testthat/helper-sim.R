# The simulator and a tiny protobuf codec for the tests.
#
# MINKNOW_SIM must name the minknow-sim binary (`make test-r` sets it to
# target/debug/minknow-sim). Nothing here skips: without the simulator a
# test fails, saying what is missing.

sim_binary <- function() {
    path <- Sys.getenv("MINKNOW_SIM")
    if (!nzchar(path)) {
        stop("MINKNOW_SIM is not set: point it at the minknow-sim binary ",
             "(cargo build --workspace; target/debug/minknow-sim), ",
             "or run `make test-r`", call. = FALSE)
    }
    if (!file.exists(path)) {
        stop("MINKNOW_SIM=", path, " does not exist (cargo build --workspace?)",
             call. = FALSE)
    }
    path
}

# Start a simulator; returns the parsed ready line plus `process`. It dies
# with the test run: a 120 s lifetime, and it exits when its standard input
# (a pipe held by this R process) closes. Killed at the end of `envir`.
start_sim <- function(auth = "guest", args = character(), envir = parent.frame()) {
    p <- processx::process$new(
        sim_binary(),
        c("--lifetime", "120", "--exit-on-stdin-eof", "--auth", auth, args),
        stdin = "|", stdout = "|", stderr = "|", cleanup = TRUE
    )
    withr::defer(stop_sim(p), envir = envir)
    line <- character()
    deadline <- Sys.time() + 20
    while (length(line) == 0L && Sys.time() < deadline) {
        p$poll_io(500)
        line <- p$read_output_lines(n = 1)
        if (length(line) == 0L && !p$is_alive()) break
    }
    if (length(line) == 0L) {
        err <- tryCatch(p$read_all_error(), error = function(e) "")
        stop("minknow-sim (", sim_binary(), ") gave no ready line: ", err,
             call. = FALSE)
    }
    info <- jsonlite::fromJSON(line, simplifyVector = TRUE)
    info$process <- p
    info
}

stop_sim <- function(p) {
    if (p$is_alive()) {
        try(close(p$get_input_connection()), silent = TRUE)
        p$wait(2000)
        if (p$is_alive()) p$kill()
    }
}

# A guest-mode connection to the simulator `sim`.
connect_sim <- function(sim, ..., ca = sim$ca) {
    mk_connect("127.0.0.1", sim$manager_port, ca = ca,
               use_environment = FALSE, ...)
}

# The condition a call raises (failing the test when it raises none).
expect_minknow_error <- function(expr, code) {
    e <- tryCatch({
        expr
        NULL
    }, error = function(e) e)
    testthat::expect_s3_class(e, c("minknow_error", "error", "condition"),
                              exact = TRUE)
    testthat::expect_identical(e$code, code, info = conditionMessage(e))
    invisible(e)
}

# ---- protobuf, by hand: varints and length-delimited fields ----

pb_varint <- function(x) {
    x <- as.numeric(x)
    out <- raw()
    repeat {
        byte <- x %% 128
        x <- x %/% 128
        if (x > 0) {
            out <- c(out, as.raw(byte + 128))
        } else {
            out <- c(out, as.raw(byte))
            break
        }
    }
    out
}

pb_uint <- function(field, value) c(pb_varint(field * 8), pb_varint(value))

pb_bytes <- function(field, value) {
    if (is.character(value)) value <- charToRaw(value)
    c(pb_varint(field * 8 + 2), pb_varint(length(value)), value)
}

# A message as a list of list(field, wire, value): numbers for varints,
# raw vectors for length-delimited fields.
pb_decode <- function(bytes) {
    fields <- list()
    i <- 1L
    n <- length(bytes)
    read_varint <- function() {
        value <- 0
        shift <- 1
        repeat {
            if (i > n) stop("truncated varint")
            b <- as.integer(bytes[i])
            i <<- i + 1L
            value <- value + (b %% 128) * shift
            shift <- shift * 128
            if (b < 128) break
        }
        value
    }
    while (i <= n) {
        key <- read_varint()
        field <- key %/% 8
        wire <- key %% 8
        if (wire == 0) {
            value <- read_varint()
        } else if (wire == 2) {
            len <- read_varint()
            if (i + len - 1 > n) stop("truncated field")
            value <- if (len > 0) bytes[i:(i + len - 1)] else raw()
            i <- i + as.integer(len)
        } else {
            stop("unsupported wire type ", wire)
        }
        fields[[length(fields) + 1L]] <- list(field = field, wire = wire, value = value)
    }
    fields
}

pb_field <- function(fields, number, default = NULL) {
    for (f in fields) if (f$field == number) return(f$value)
    default
}

pb_string <- function(fields, number) {
    v <- pb_field(fields, number, raw())
    rawToChar(v)
}

# TestService/whoami on `conn`: list(token_header, token_kind,
# client_certificate_subject, port).
whoami <- function(conn) {
    f <- pb_decode(mk_call(conn, "/minknow_sim.TestService/whoami"))
    list(token_header = pb_string(f, 1), token_kind = pb_string(f, 2),
         client_certificate_subject = pb_string(f, 3),
         port = pb_field(f, 4, 0))
}

# The project's proto/ directory, for the RProtoBuf tests.
proto_dir <- function() {
    dir <- Sys.getenv("MINKNOW_PROTO_DIR")
    if (!nzchar(dir) || !file.exists(file.path(dir, "minknow_api", "manager.proto"))) {
        stop("MINKNOW_PROTO_DIR must name the libminknow_auth tree's proto/ ",
             "directory (holding minknow_api/manager.proto); got '", dir, "'",
             call. = FALSE)
    }
    normalizePath(dir)
}
