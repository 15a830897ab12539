/*
 * minknowauth: R glue over libminknow_auth's C ABI.
 *
 * Rules this file keeps:
 *
 * - No R longjmp crosses a Rust frame or leaves a C object unfreed. Every
 *   library call returns before any R API that may raise is used; library
 *   objects (errors, buffers, snapshots) are held in a `job` while their
 *   contents are copied into R memory under R_UnwindProtect, whose cleanup
 *   frees the job if an R allocation fails. Errors are never raised here:
 *   a failure is returned as a list of class "minknow_failure" and the R
 *   code turns it into a condition of class "minknow_error".
 * - Blocking library calls run on a helper pthread. The R thread waits on
 *   a condition variable in 100 ms slices and checks for a user interrupt
 *   in between, through R_ToplevelExec so that the interrupt's longjmp
 *   stays inside this file. On an interrupt a call is cancelled
 *   (minknow_call_cancel) and its thread waited for; a connect or manager
 *   query, which has no cancel, is abandoned: its thread finishes on its
 *   own and frees what it made. The R code then signals "interrupt".
 * - Handles are reference counted, so an abandoned thread keeps its
 *   channel or call alive after mk_close() or the finalizer dropped R's
 *   reference. Helper threads never touch R.
 * - Log messages arrive on any thread (the library's I/O threads, the
 *   helper threads, R's own), so the log callback only queues them, in C
 *   memory under a mutex; R takes them from the queue on its own thread
 *   (mk_c_log_take) and delivers them there.
 */
#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "minknow_auth.h"

/* ---- handles ---------------------------------------------------------- */

enum { H_CHANNEL = 1, H_CALL = 2 };
enum { K_MANAGER = 0, K_POSITION = 1, K_BASECALLER = 2, K_PORT = 3, K_STREAM = 4 };

typedef struct mk_handle {
    int type;   /* H_CHANNEL or H_CALL */
    int kind;   /* K_* */
    int refs;   /* guarded by g_refs */
    void *ptr;  /* minknow_channel * or minknow_call * */
} mk_handle;

static pthread_mutex_t g_refs = PTHREAD_MUTEX_INITIALIZER;

/* R handles SIGPIPE by raising an R error from the signal handler, a
 * longjmp on whichever thread wrote to a closed socket. The library's I/O
 * threads write to sockets (a TLS close_notify or an HTTP/2 frame after
 * the peer went away) and do not block SIGPIPE themselves, so every
 * thread that calls into the library, and so every thread the library
 * spawns from it (its runtime is created on first use and threads
 * inherit the signal mask), has SIGPIPE blocked: a write then fails with
 * EPIPE instead. Returns the previous mask for sigpipe_restore. */
static sigset_t sigpipe_block(void) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    return old;
}

/* Restore the mask, first discarding a SIGPIPE that became pending while
 * it was blocked (a write on this thread), which would otherwise be
 * delivered, and raise an R error, on restoring. */
static void sigpipe_restore(sigset_t old) {
    sigset_t pending, pipe_only;
    struct timespec zero = {0, 0};

    sigemptyset(&pending);
    if (!sigismember(&old, SIGPIPE) && sigpending(&pending) == 0 &&
        sigismember(&pending, SIGPIPE)) {
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        (void) sigtimedwait(&pipe_only, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void handle_retain(mk_handle *h) {
    pthread_mutex_lock(&g_refs);
    h->refs++;
    pthread_mutex_unlock(&g_refs);
}

static void handle_release(mk_handle *h) {
    int last;
    sigset_t mask;

    if (h == NULL) return;
    pthread_mutex_lock(&g_refs);
    last = (--h->refs == 0);
    pthread_mutex_unlock(&g_refs);
    if (!last) return;
    mask = sigpipe_block();
    if (h->type == H_CHANNEL) {
        minknow_channel_free((minknow_channel *) h->ptr);
    } else {
        minknow_call_free((minknow_call *) h->ptr);
    }
    sigpipe_restore(mask);
    free(h);
}

/* A fork while a helper thread holds g_refs would leave it locked in the
 * child (R's parallel forks); take it across the fork. */
static pthread_mutex_t g_log = PTHREAD_MUTEX_INITIALIZER;

static void atfork_prepare(void) {
    pthread_mutex_lock(&g_refs);
    pthread_mutex_lock(&g_log);
}
static void atfork_parent(void) {
    pthread_mutex_unlock(&g_log);
    pthread_mutex_unlock(&g_refs);
}
static void atfork_child(void) {
    pthread_mutex_unlock(&g_log);
    pthread_mutex_unlock(&g_refs);
}

static SEXP sym_channel_tag, sym_call_tag;

static void handle_finalizer(SEXP x) {
    mk_handle *h = (mk_handle *) R_ExternalPtrAddr(x);
    if (h == NULL) return;
    R_ClearExternalPtr(x);
    handle_release(h);
}

/* The handle behind `x`, or NULL when `x` is closed or not of `type`
 * (*wrong_type says which). Never raises. */
static mk_handle *handle_get(SEXP x, int type, int *wrong_type) {
    SEXP tag = type == H_CHANNEL ? sym_channel_tag : sym_call_tag;

    *wrong_type = 0;
    if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != tag) {
        *wrong_type = 1;
        return NULL;
    }
    return (mk_handle *) R_ExternalPtrAddr(x);
}

/* ---- status names ----------------------------------------------------- */

static const char *status_code(minknow_status st) {
    switch (st) {
    case MINKNOW_STATUS_OK: return "OK";
    case MINKNOW_STATUS_END_OF_STREAM: return "END_OF_STREAM";
    case MINKNOW_STATUS_NULL_ARGUMENT: return "NULL_ARGUMENT";
    case MINKNOW_STATUS_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case MINKNOW_STATUS_INVALID_STATE: return "INVALID_STATE";
    case MINKNOW_STATUS_FORKED_HANDLE: return "FORKED_HANDLE";
    case MINKNOW_STATUS_FILE_ERROR: return "FILE_ERROR";
    case MINKNOW_STATUS_BAD_CERTIFICATE: return "BAD_CERTIFICATE";
    case MINKNOW_STATUS_BAD_KEY: return "BAD_KEY";
    case MINKNOW_STATUS_ENCRYPTED_KEY: return "ENCRYPTED_KEY";
    case MINKNOW_STATUS_KEY_MISMATCH: return "KEY_MISMATCH";
    case MINKNOW_STATUS_NO_TRUSTED_CA: return "NO_TRUSTED_CA";
    case MINKNOW_STATUS_BAD_TOKEN_FILE: return "BAD_TOKEN_FILE";
    case MINKNOW_STATUS_PEM_LOOKS_LIKE_PATH: return "PEM_LOOKS_LIKE_PATH";
    case MINKNOW_STATUS_INCOMPLETE_IDENTITY: return "INCOMPLETE_IDENTITY";
    case MINKNOW_STATUS_CONNECT_FAILED: return "CONNECT_FAILED";
    case MINKNOW_STATUS_TLS_FAILED: return "TLS_FAILED";
    case MINKNOW_STATUS_CERTIFICATE_VERIFY_FAILED: return "CERTIFICATE_VERIFY_FAILED";
    case MINKNOW_STATUS_HTTP2_FAILED: return "HTTP2_FAILED";
    case MINKNOW_STATUS_TIMEOUT: return "TIMEOUT";
    case MINKNOW_STATUS_RPC_FAILED: return "RPC_FAILED";
    case MINKNOW_STATUS_UNAUTHENTICATED: return "UNAUTHENTICATED";
    case MINKNOW_STATUS_CANCELLED: return "CANCELLED";
    case MINKNOW_STATUS_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case MINKNOW_STATUS_UNAVAILABLE: return "UNAVAILABLE";
    case MINKNOW_STATUS_MESSAGE_TOO_LARGE: return "MESSAGE_TOO_LARGE";
    case MINKNOW_STATUS_BAD_RESPONSE: return "BAD_RESPONSE";
    case MINKNOW_STATUS_POSITION_NOT_FOUND: return "POSITION_NOT_FOUND";
    case MINKNOW_STATUS_POSITION_NOT_RUNNING: return "POSITION_NOT_RUNNING";
    case MINKNOW_STATUS_NO_BASECALLER: return "NO_BASECALLER";
    case MINKNOW_STATUS_PANIC: return "PANIC";
    case MINKNOW_STATUS_INTERNAL: return "INTERNAL";
    }
    return NULL;
}

/* list(code, status, grpc_status, message) of class "minknow_failure".
 * `status` and `grpc_status` are NA_INTEGER when not applicable. */
static SEXP make_failure(const char *code, int status, int grpc, const char *message) {
    const char *names[] = {"code", "status", "grpc_status", "message", ""};
    SEXP res = PROTECT(Rf_mkNamed(VECSXP, names));
    SET_VECTOR_ELT(res, 0, Rf_mkString(code));
    SET_VECTOR_ELT(res, 1, Rf_ScalarInteger(status));
    SET_VECTOR_ELT(res, 2, Rf_ScalarInteger(grpc));
    SET_VECTOR_ELT(res, 3, Rf_ScalarString(Rf_mkCharCE(message, CE_UTF8)));
    Rf_setAttrib(res, R_ClassSymbol, Rf_mkString("minknow_failure"));
    UNPROTECT(1);
    return res;
}

static SEXP failure_from(minknow_status st, const minknow_error *err) {
    char number[32];
    const char *code = status_code(st);
    int grpc = err != NULL ? minknow_error_grpc_status(err) : -1;
    const char *message = err != NULL ? minknow_error_message(err) : minknow_status_name(st);

    if (code == NULL) {
        snprintf(number, sizeof number, "%d", (int) st);
        code = number;
    }
    return make_failure(code, (int) st, grpc < 0 ? NA_INTEGER : grpc, message);
}

static SEXP closed_failure(int wrong_type, const char *what) {
    char message[128];
    if (wrong_type) {
        snprintf(message, sizeof message, "not a %s object", what);
        return make_failure("INVALID_ARGUMENT", NA_INTEGER, NA_INTEGER, message);
    }
    snprintf(message, sizeof message, "the %s is closed", what);
    return make_failure("CLOSED", NA_INTEGER, NA_INTEGER, message);
}

static SEXP interrupted(void) {
    SEXP res = PROTECT(Rf_ScalarLogical(TRUE));
    Rf_setAttrib(res, R_ClassSymbol, Rf_mkString("minknow_interrupted"));
    UNPROTECT(1);
    return res;
}

/* ---- jobs: one blocking library call on a helper thread ---------------- */

typedef enum {
    OP_NONE,
    OP_CONNECT,
    OP_VERSION,
    OP_POSITION_VERSION,
    OP_HOST,
    OP_POSITIONS,
    OP_BASECALLER_PORT,
    OP_OPEN_POSITION,
    OP_OPEN_BASECALLER,
    OP_OPEN_PORT,
    OP_UNARY,
    OP_SEND,
    OP_RECV,
    OP_DIAGNOSE
} op_t;

typedef struct job {
    op_t op;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, abandoned, cancelled;

    /* inputs, owned by the job */
    mk_handle *h; /* a reference of its own, released by job_free */
    char *host, *method, *name;
    int32_t port;
    uint32_t timeout_ms;
    uint8_t *data;
    size_t len;
    minknow_options *opts;

    /* outputs, owned by the job until handed to R */
    minknow_status st;
    minknow_error *err;
    minknow_buffer *buf;
    minknow_channel *chan;
    minknow_call *call; /* the unary call's own call object */
    minknow_version_info *version;
    minknow_host_info *hostinfo;
    minknow_positions *positions;
    uint16_t port_out;
    int no_reply;
    int new_kind;
    mk_handle *newh;
} job;

static job *job_new(op_t op) {
    job *j = (job *) calloc(1, sizeof(job));
    if (j == NULL) return NULL;
    j->op = op;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    return j;
}

/* Free the job and all it still owns. Safe on any thread. */
static void job_free(job *j) {
    if (j == NULL) return;
    free(j->host);
    free(j->method);
    free(j->name);
    free(j->data);
    minknow_options_free(j->opts);
    minknow_error_free(j->err);
    minknow_buffer_free(j->buf);
    minknow_channel_free(j->chan);
    minknow_call_free(j->call);
    minknow_version_info_free(j->version);
    minknow_host_info_free(j->hostinfo);
    minknow_positions_free(j->positions);
    free(j->newh);
    handle_release(j->h);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

static char *dup_or_null(const char *s) {
    return s == NULL ? NULL : strdup(s);
}

static void replace_error(job *j, minknow_status st, minknow_error *err) {
    minknow_error_free(j->err);
    j->err = err;
    j->st = st;
}

/* Unary through the streaming call object, so an interrupt can cancel it.
 * A refused token is retried once, as minknow_unary does (the call object
 * has already re-read the local token file by then). */
static void run_unary(job *j) {
    minknow_channel *ch = (minknow_channel *) j->h->ptr;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        minknow_call *c = NULL;
        minknow_error *err = NULL;
        minknow_buffer *extra = NULL;
        minknow_status st;
        int cancelled;

        st = minknow_call_start(ch, j->method, j->timeout_ms, &c, &err);
        if (st != MINKNOW_STATUS_OK) {
            replace_error(j, st, err);
            return;
        }
        pthread_mutex_lock(&j->mu);
        minknow_call_free(j->call);
        j->call = c;
        cancelled = j->cancelled;
        pthread_mutex_unlock(&j->mu);
        if (cancelled) minknow_call_cancel(c);

        st = minknow_call_send(c, j->data, j->len, &err);
        if (st == MINKNOW_STATUS_OK) {
            st = minknow_call_close_send(c, &err);
        } else if (st == MINKNOW_STATUS_INVALID_STATE) {
            /* The call ended already; recv gives its final status. */
            minknow_error_free(err);
            err = NULL;
            st = MINKNOW_STATUS_OK;
        }
        if (st != MINKNOW_STATUS_OK) {
            replace_error(j, st, err);
            return;
        }
        st = minknow_call_recv(c, &j->buf, &err);
        if (st == MINKNOW_STATUS_OK) {
            minknow_status end = minknow_call_recv(c, &extra, &err);
            if (end == MINKNOW_STATUS_END_OF_STREAM) {
                j->st = MINKNOW_STATUS_OK;
                return;
            }
            minknow_buffer_free(j->buf);
            j->buf = NULL;
            if (end == MINKNOW_STATUS_OK) {
                /* A second message: not a unary method. */
                minknow_buffer_free(extra);
                j->no_reply = 2;
                j->st = MINKNOW_STATUS_BAD_RESPONSE;
                return;
            }
            st = end;
        }
        if (st == MINKNOW_STATUS_END_OF_STREAM) {
            j->no_reply = 1;
            j->st = MINKNOW_STATUS_BAD_RESPONSE;
            return;
        }
        replace_error(j, st, err);
        pthread_mutex_lock(&j->mu);
        cancelled = j->cancelled;
        pthread_mutex_unlock(&j->mu);
        if (st != MINKNOW_STATUS_UNAUTHENTICATED || cancelled) return;
    }
}

static void run_op(job *j) {
    minknow_channel *ch = j->h != NULL && j->h->type == H_CHANNEL ? (minknow_channel *) j->h->ptr : NULL;
    minknow_call *call = j->h != NULL && j->h->type == H_CALL ? (minknow_call *) j->h->ptr : NULL;

    switch (j->op) {
    case OP_NONE:
        break;
    case OP_CONNECT:
        j->st = minknow_connect(j->host, j->port, j->opts, &j->chan, &j->err);
        break;
    case OP_VERSION:
        j->st = minknow_manager_version(ch, &j->version, &j->err);
        break;
    case OP_POSITION_VERSION:
        j->st = minknow_position_version(ch, &j->version, &j->err);
        break;
    case OP_HOST:
        j->st = minknow_manager_describe_host(ch, &j->hostinfo, &j->err);
        break;
    case OP_POSITIONS:
        j->st = minknow_manager_positions(ch, &j->positions, &j->err);
        break;
    case OP_BASECALLER_PORT:
        j->st = minknow_manager_basecaller_port(ch, &j->port_out, &j->err);
        break;
    case OP_OPEN_POSITION:
        j->st = minknow_channel_open_position(ch, j->name, &j->chan, &j->err);
        break;
    case OP_OPEN_BASECALLER:
        j->st = minknow_channel_open_basecaller(ch, &j->chan, &j->err);
        break;
    case OP_OPEN_PORT:
        j->st = minknow_channel_open_port(ch, j->port, &j->chan, &j->err);
        break;
    case OP_UNARY:
        run_unary(j);
        break;
    case OP_SEND:
        j->st = minknow_call_send(call, j->data, j->len, &j->err);
        break;
    case OP_RECV:
        j->st = minknow_call_recv(call, &j->buf, &j->err);
        break;
    case OP_DIAGNOSE:
        j->st = minknow_diagnose(j->host, j->port, j->opts, &j->buf, &j->err);
        break;
    }
}

static void *job_thread(void *arg) {
    job *j = (job *) arg;
    int abandoned;

    (void) sigpipe_block();
    run_op(j);
    pthread_mutex_lock(&j->mu);
    j->done = 1;
    abandoned = j->abandoned;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    /* When not abandoned the R thread owns the job from here on. */
    if (abandoned) job_free(j);
    return NULL;
}

static void check_interrupt_fn(void *unused) {
    (void) unused;
    R_CheckUserInterrupt();
}

/* TRUE when the user asked to interrupt; never longjmps. */
static int pending_interrupt(void) {
    return !R_ToplevelExec(check_interrupt_fn, NULL);
}

static void cancel_job(job *j) {
    pthread_mutex_lock(&j->mu);
    j->cancelled = 1;
    if (j->op == OP_UNARY && j->call != NULL) minknow_call_cancel(j->call);
    if ((j->op == OP_SEND || j->op == OP_RECV) && j->h != NULL) {
        minknow_call_cancel((minknow_call *) j->h->ptr);
    }
    pthread_mutex_unlock(&j->mu);
}

static void deadline_in(struct timespec *ts, long ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec += 1;
        ts->tv_nsec -= 1000000000L;
    }
}

enum { JOB_DONE = 0, JOB_INTERRUPTED = 1, JOB_NO_THREAD = 2 };

/* Run `j` on a helper thread and wait, checking for interrupts. Returns
 * JOB_DONE (the R thread owns `j`), JOB_INTERRUPTED (`j` is gone: freed
 * here or by its thread) or JOB_NO_THREAD (no thread could be made; the
 * R thread still owns `j`). */
static int job_run(job *j) {
    pthread_t tid;
    pthread_attr_t attr;
    int rc, cancellable = j->op == OP_UNARY || j->op == OP_SEND || j->op == OP_RECV;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&tid, &attr, job_thread, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) return JOB_NO_THREAD;

    pthread_mutex_lock(&j->mu);
    while (!j->done) {
        struct timespec ts;
        deadline_in(&ts, 100);
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (j->done) break;
        pthread_mutex_unlock(&j->mu);
        if (pending_interrupt()) {
            if (cancellable) {
                /* A cancelled call returns promptly; wait up to 5 s. */
                int i;
                cancel_job(j);
                pthread_mutex_lock(&j->mu);
                for (i = 0; i < 50 && !j->done; i++) {
                    deadline_in(&ts, 100);
                    pthread_cond_timedwait(&j->cv, &j->mu, &ts);
                }
            } else {
                pthread_mutex_lock(&j->mu);
            }
            if (j->done) {
                pthread_mutex_unlock(&j->mu);
                job_free(j);
            } else {
                j->abandoned = 1;
                pthread_mutex_unlock(&j->mu);
            }
            return JOB_INTERRUPTED;
        }
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return JOB_DONE;
}

/* ---- converting results under R_UnwindProtect ------------------------- */

typedef SEXP (*convert_fn)(job *j);

typedef struct {
    job *j;
    convert_fn fn;
} convert_args;

static SEXP convert_body(void *data) {
    convert_args *a = (convert_args *) data;
    if (a->j->st != MINKNOW_STATUS_OK) {
        if (a->j->no_reply == 1) {
            return make_failure("BAD_RESPONSE", (int) MINKNOW_STATUS_BAD_RESPONSE, NA_INTEGER,
                                "the call ended without a reply (is the method unary?)");
        }
        if (a->j->no_reply == 2) {
            return make_failure("BAD_RESPONSE", (int) MINKNOW_STATUS_BAD_RESPONSE, NA_INTEGER,
                                "the server sent more than one reply (the method streams: use mk_stream)");
        }
        return failure_from(a->j->st, a->j->err);
    }
    return a->fn(a->j);
}

static void convert_cleanup(void *data, Rboolean jump) {
    if (jump) job_free((job *) data);
}

/* Turn a finished job into an R value (or a "minknow_failure") and free
 * it; an R error while doing so frees the job before unwinding on. */
static SEXP job_finish(job *j, convert_fn fn) {
    convert_args a;
    SEXP cont, res;

    a.j = j;
    a.fn = fn;
    cont = PROTECT(R_MakeUnwindCont());
    res = PROTECT(R_UnwindProtect(convert_body, &a, convert_cleanup, j, cont));
    job_free(j);
    UNPROTECT(2);
    return res;
}

/* Run and finish a job; the usual path of every blocking entry point. */
static SEXP job_complete(job *j, convert_fn fn) {
    int rc;
    if (j->op == OP_NONE) return job_finish(j, fn);
    rc = job_run(j);
    if (rc == JOB_INTERRUPTED) return interrupted();
    if (rc == JOB_NO_THREAD) {
        job_free(j);
        return make_failure("INTERNAL", (int) MINKNOW_STATUS_INTERNAL, NA_INTEGER,
                            "could not start a thread for the call");
    }
    return job_finish(j, fn);
}

static SEXP oom_failure(void) {
    return make_failure("INTERNAL", (int) MINKNOW_STATUS_INTERNAL, NA_INTEGER, "out of memory");
}

static SEXP str_or_empty(const char *s) {
    return Rf_ScalarString(Rf_mkCharCE(s == NULL ? "" : s, CE_UTF8));
}

/* A new handle for the job's channel or call, as an external pointer with
 * a finalizer that also runs at exit. */
static SEXP wrap_handle(job *j, int type, void **ptr, int kind) {
    SEXP x;
    mk_handle *h = (mk_handle *) calloc(1, sizeof(mk_handle));
    if (h == NULL) return oom_failure();
    j->newh = h;
    x = PROTECT(R_MakeExternalPtr(NULL, type == H_CHANNEL ? sym_channel_tag : sym_call_tag,
                                  R_NilValue));
    R_RegisterCFinalizerEx(x, handle_finalizer, TRUE);
    h->type = type;
    h->kind = kind;
    h->refs = 1;
    h->ptr = *ptr;
    /* From here R owns the handle, and the handle the library object. */
    *ptr = NULL;
    j->newh = NULL;
    R_SetExternalPtrAddr(x, h);
    UNPROTECT(1);
    return x;
}

static SEXP conv_channel(job *j) {
    return wrap_handle(j, H_CHANNEL, (void **) &j->chan, j->new_kind);
}

static SEXP conv_version(job *j) {
    const char *names[] = {"major", "minor", "patch", "full", "bream", "distribution", ""};
    SEXP res = PROTECT(Rf_mkNamed(VECSXP, names));
    SET_VECTOR_ELT(res, 0, Rf_ScalarInteger(minknow_version_info_major(j->version)));
    SET_VECTOR_ELT(res, 1, Rf_ScalarInteger(minknow_version_info_minor(j->version)));
    SET_VECTOR_ELT(res, 2, Rf_ScalarInteger(minknow_version_info_patch(j->version)));
    SET_VECTOR_ELT(res, 3, str_or_empty(minknow_version_info_full(j->version)));
    SET_VECTOR_ELT(res, 4, str_or_empty(minknow_version_info_bream(j->version)));
    SET_VECTOR_ELT(res, 5, str_or_empty(minknow_version_info_distribution(j->version)));
    UNPROTECT(1);
    return res;
}

static SEXP conv_host(job *j) {
    const char *names[] = {"product_code", "description", "serial", "network_name", ""};
    SEXP res = PROTECT(Rf_mkNamed(VECSXP, names));
    SET_VECTOR_ELT(res, 0, str_or_empty(minknow_host_info_product_code(j->hostinfo)));
    SET_VECTOR_ELT(res, 1, str_or_empty(minknow_host_info_description(j->hostinfo)));
    SET_VECTOR_ELT(res, 2, str_or_empty(minknow_host_info_serial(j->hostinfo)));
    SET_VECTOR_ELT(res, 3, str_or_empty(minknow_host_info_network_name(j->hostinfo)));
    UNPROTECT(1);
    return res;
}

static SEXP conv_positions(job *j) {
    const char *names[] = {"name", "state", "state_code", "secure_port", "simulated",
                           "integrated", "error_info", "parent_name", ""};
    const minknow_positions *p = j->positions;
    size_t n = minknow_positions_count(p), i;
    SEXP res = PROTECT(Rf_mkNamed(VECSXP, names));
    SEXP name = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t) n));
    SEXP state = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t) n));
    SEXP code = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t) n));
    SEXP port = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t) n));
    SEXP sim = PROTECT(Rf_allocVector(LGLSXP, (R_xlen_t) n));
    SEXP integ = PROTECT(Rf_allocVector(LGLSXP, (R_xlen_t) n));
    SEXP info = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t) n));
    SEXP parent = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t) n));

    for (i = 0; i < n; i++) {
        SET_STRING_ELT(name, i, Rf_mkCharCE(minknow_positions_name(p, i), CE_UTF8));
        SET_STRING_ELT(state, i, Rf_mkCharCE(minknow_positions_state_name(p, i), CE_UTF8));
        INTEGER(code)[i] = minknow_positions_state(p, i);
        INTEGER(port)[i] = (int) minknow_positions_secure_port(p, i);
        LOGICAL(sim)[i] = minknow_positions_is_simulated(p, i) ? TRUE : FALSE;
        LOGICAL(integ)[i] = minknow_positions_is_integrated(p, i) ? TRUE : FALSE;
        SET_STRING_ELT(info, i, Rf_mkCharCE(minknow_positions_error_info(p, i), CE_UTF8));
        SET_STRING_ELT(parent, i, Rf_mkCharCE(minknow_positions_parent_name(p, i), CE_UTF8));
    }
    SET_VECTOR_ELT(res, 0, name);
    SET_VECTOR_ELT(res, 1, state);
    SET_VECTOR_ELT(res, 2, code);
    SET_VECTOR_ELT(res, 3, port);
    SET_VECTOR_ELT(res, 4, sim);
    SET_VECTOR_ELT(res, 5, integ);
    SET_VECTOR_ELT(res, 6, info);
    SET_VECTOR_ELT(res, 7, parent);
    UNPROTECT(9);
    return res;
}

static SEXP conv_port(job *j) {
    return Rf_ScalarInteger((int) j->port_out);
}

static SEXP conv_buffer(job *j) {
    size_t n = minknow_buffer_len(j->buf);
    SEXP res = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t) n));
    if (n > 0) memcpy(RAW(res), minknow_buffer_data(j->buf), n);
    UNPROTECT(1);
    return res;
}

/* The buffer as one UTF-8 string (minknow_diagnose's JSON text). */
static SEXP conv_text(job *j) {
    size_t n = minknow_buffer_len(j->buf);
    const char *text = (const char *) minknow_buffer_data(j->buf);
    if (n > (size_t) INT_MAX) {
        return make_failure("INTERNAL", (int) MINKNOW_STATUS_INTERNAL, NA_INTEGER,
                            "the report is too long for an R string");
    }
    return Rf_ScalarString(Rf_mkCharLenCE(text, (int) n, CE_UTF8));
}

static SEXP conv_recv(job *j) {
    /* END_OF_STREAM is converted before convert_body sees it. */
    return conv_buffer(j);
}

static SEXP conv_true(job *j) {
    (void) j;
    return Rf_ScalarLogical(TRUE);
}

static SEXP conv_call(job *j) {
    return wrap_handle(j, H_CALL, (void **) &j->call, K_STREAM);
}

/* ---- argument helpers (called before anything is allocated in C) ------ */

/* NULL for R's NULL or NA; else the string, translated to UTF-8. */
static const char *opt_string(SEXP x, const char *what) {
    if (Rf_isNull(x)) return NULL;
    if (TYPEOF(x) != STRSXP || XLENGTH(x) != 1) Rf_error("'%s' must be a single string or NULL", what);
    if (STRING_ELT(x, 0) == NA_STRING) return NULL;
    return Rf_translateCharUTF8(STRING_ELT(x, 0));
}

static const char *req_string(SEXP x, const char *what) {
    const char *s = opt_string(x, what);
    if (s == NULL) Rf_error("'%s' must be a single string", what);
    return s;
}

static int int_arg(SEXP x, const char *what) {
    if (TYPEOF(x) != INTSXP || XLENGTH(x) != 1 || INTEGER(x)[0] == NA_INTEGER) {
        Rf_error("'%s' must be a single integer", what);
    }
    return INTEGER(x)[0];
}

static job *job_with_handle(op_t op, mk_handle *h) {
    job *j = job_new(op);
    if (j == NULL) return NULL;
    handle_retain(h);
    j->h = h;
    return j;
}

static int looks_like_pem(const char *s) {
    return strstr(s, "-----BEGIN ") != NULL;
}

/* ---- entry points ----------------------------------------------------- */

SEXP mk_c_library_version(void) {
    return Rf_mkString(minknow_auth_version());
}

/* A job `op` with the host, port and options of mk_connect's arguments
 * (raising for malformed ones before anything is allocated). When the
 * library refuses an option the job is OP_NONE with that failure. NULL
 * when out of memory. */
static job *connection_job(op_t op, SEXP host, SEXP port, SEXP ca, SEXP cert, SEXP key,
                           SEXP token, SEXP protocol_token, SEXP local_mode, SEXP server_name,
                           SEXP use_env, SEXP timeout_ms) {
    const char *c_host = req_string(host, "host");
    int c_port = int_arg(port, "port");
    const char *c_cert = opt_string(cert, "cert");
    const char *c_key = opt_string(key, "key");
    const char *c_token = opt_string(token, "token");
    const char *c_ptoken = opt_string(protocol_token, "protocol_token");
    const char *c_server = opt_string(server_name, "server_name");
    int c_mode = int_arg(local_mode, "local_token");
    int c_timeout = int_arg(timeout_ms, "timeout");
    int c_env;
    R_xlen_t n_ca, i;
    const char **c_ca;
    job *j;
    minknow_status st = MINKNOW_STATUS_OK;

    if (TYPEOF(use_env) != LGLSXP || XLENGTH(use_env) != 1 || LOGICAL(use_env)[0] == NA_LOGICAL) {
        Rf_error("'use_environment' must be TRUE or FALSE");
    }
    c_env = LOGICAL(use_env)[0];
    if (!Rf_isNull(ca) && TYPEOF(ca) != STRSXP) Rf_error("'ca' must be a character vector or NULL");
    n_ca = Rf_isNull(ca) ? 0 : XLENGTH(ca);
    c_ca = (const char **) R_alloc((size_t) n_ca + 1, sizeof(char *));
    for (i = 0; i < n_ca; i++) {
        if (STRING_ELT(ca, i) == NA_STRING) Rf_error("'ca' must not contain NA");
        c_ca[i] = Rf_translateCharUTF8(STRING_ELT(ca, i));
    }
    /* No R API that raises from here on until job_complete. */

    j = job_new(op);
    if (j == NULL) return NULL;
    j->port = c_port;
    j->host = dup_or_null(c_host);
    if (j->host == NULL) {
        job_free(j);
        return NULL;
    }
    st = minknow_options_new(&j->opts, &j->err);
    for (i = 0; st == MINKNOW_STATUS_OK && i < n_ca; i++) {
        if (looks_like_pem(c_ca[i])) {
            st = minknow_options_add_ca_pem(j->opts, (const uint8_t *) c_ca[i], strlen(c_ca[i]),
                                            &j->err);
        } else {
            st = minknow_options_add_ca_file(j->opts, c_ca[i], &j->err);
        }
    }
    if (st == MINKNOW_STATUS_OK && (c_cert != NULL || c_key != NULL)) {
        if (c_cert != NULL && c_key != NULL && looks_like_pem(c_cert) && looks_like_pem(c_key)) {
            st = minknow_options_set_client_certificate_pem(
                j->opts, (const uint8_t *) c_cert, strlen(c_cert), (const uint8_t *) c_key,
                strlen(c_key), &j->err);
        } else {
            /* One alone reaches the library as NULL: INCOMPLETE_IDENTITY
             * or NULL_ARGUMENT, reported with its own message. */
            st = minknow_options_set_client_certificate_files(j->opts, c_cert, c_key, &j->err);
        }
    }
    if (st == MINKNOW_STATUS_OK && c_token != NULL) {
        st = minknow_options_set_developer_token(j->opts, c_token, &j->err);
    }
    if (st == MINKNOW_STATUS_OK && c_ptoken != NULL) {
        st = minknow_options_set_protocol_token(j->opts, c_ptoken, &j->err);
    }
    if (st == MINKNOW_STATUS_OK) {
        st = minknow_options_set_local_token_mode(j->opts, c_mode, &j->err);
    }
    if (st == MINKNOW_STATUS_OK && c_server != NULL) {
        st = minknow_options_set_server_name(j->opts, c_server, &j->err);
    }
    if (st == MINKNOW_STATUS_OK) {
        st = minknow_options_set_use_environment(j->opts, c_env ? true : false, &j->err);
    }
    if (st == MINKNOW_STATUS_OK) {
        st = minknow_options_set_connect_timeout_ms(j->opts, (uint32_t) c_timeout, &j->err);
    }
    if (st != MINKNOW_STATUS_OK) {
        j->op = OP_NONE;
        j->st = st;
    }
    return j;
}

SEXP mk_c_connect(SEXP host, SEXP port, SEXP ca, SEXP cert, SEXP key, SEXP token,
                  SEXP protocol_token, SEXP local_mode, SEXP server_name, SEXP use_env,
                  SEXP timeout_ms) {
    job *j = connection_job(OP_CONNECT, host, port, ca, cert, key, token, protocol_token,
                            local_mode, server_name, use_env, timeout_ms);
    if (j == NULL) return oom_failure();
    j->new_kind = K_MANAGER;
    return job_complete(j, conv_channel);
}

/* minknow_diagnose with mk_connect's arguments: the JSON report as a
 * string. It cannot be cancelled: an interrupt abandons it to its thread,
 * bounded by the connect timeout. */
SEXP mk_c_diagnose(SEXP host, SEXP port, SEXP ca, SEXP cert, SEXP key, SEXP token,
                   SEXP protocol_token, SEXP local_mode, SEXP server_name, SEXP use_env,
                   SEXP timeout_ms) {
    job *j = connection_job(OP_DIAGNOSE, host, port, ca, cert, key, token, protocol_token,
                            local_mode, server_name, use_env, timeout_ms);
    if (j == NULL) return oom_failure();
    return job_complete(j, conv_text);
}

static SEXP channel_job(SEXP conn, op_t op, convert_fn fn) {
    int wrong;
    mk_handle *h = handle_get(conn, H_CHANNEL, &wrong);
    job *j;

    if (h == NULL) return closed_failure(wrong, "connection");
    if (op == OP_VERSION && h->kind == K_POSITION) op = OP_POSITION_VERSION;
    j = job_with_handle(op, h);
    if (j == NULL) return oom_failure();
    return job_complete(j, fn);
}

SEXP mk_c_version(SEXP conn) { return channel_job(conn, OP_VERSION, conv_version); }
SEXP mk_c_host(SEXP conn) { return channel_job(conn, OP_HOST, conv_host); }
SEXP mk_c_positions(SEXP conn) { return channel_job(conn, OP_POSITIONS, conv_positions); }
SEXP mk_c_basecaller_port(SEXP conn) { return channel_job(conn, OP_BASECALLER_PORT, conv_port); }

SEXP mk_c_open_position(SEXP conn, SEXP name) {
    const char *c_name = req_string(name, "name");
    int wrong;
    mk_handle *h = handle_get(conn, H_CHANNEL, &wrong);
    job *j;

    if (h == NULL) return closed_failure(wrong, "connection");
    j = job_with_handle(OP_OPEN_POSITION, h);
    if (j == NULL) return oom_failure();
    j->new_kind = K_POSITION;
    j->name = dup_or_null(c_name);
    if (j->name == NULL) {
        job_free(j);
        return oom_failure();
    }
    return job_complete(j, conv_channel);
}

SEXP mk_c_open_basecaller(SEXP conn) {
    int wrong;
    mk_handle *h = handle_get(conn, H_CHANNEL, &wrong);
    job *j;

    if (h == NULL) return closed_failure(wrong, "connection");
    j = job_with_handle(OP_OPEN_BASECALLER, h);
    if (j == NULL) return oom_failure();
    j->new_kind = K_BASECALLER;
    return job_complete(j, conv_channel);
}

SEXP mk_c_open_port(SEXP conn, SEXP port) {
    int c_port = int_arg(port, "port");
    int wrong;
    mk_handle *h = handle_get(conn, H_CHANNEL, &wrong);
    job *j;

    if (h == NULL) return closed_failure(wrong, "connection");
    j = job_with_handle(OP_OPEN_PORT, h);
    if (j == NULL) return oom_failure();
    j->new_kind = K_PORT;
    j->port = c_port;
    return job_complete(j, conv_channel);
}

/* Copy a raw vector for a helper thread; 0 on failure (out of memory). */
static int copy_raw(job *j, SEXP raw) {
    j->len = (size_t) XLENGTH(raw);
    j->data = (uint8_t *) malloc(j->len > 0 ? j->len : 1);
    if (j->data == NULL) return 0;
    if (j->len > 0) memcpy(j->data, RAW(raw), j->len);
    return 1;
}

SEXP mk_c_unary(SEXP conn, SEXP method, SEXP request, SEXP timeout_ms) {
    const char *c_method = req_string(method, "method");
    int c_timeout = int_arg(timeout_ms, "timeout");
    int wrong;
    mk_handle *h;
    job *j;

    if (TYPEOF(request) != RAWSXP) Rf_error("'raw_request' must be a raw vector");
    h = handle_get(conn, H_CHANNEL, &wrong);
    if (h == NULL) return closed_failure(wrong, "connection");
    j = job_with_handle(OP_UNARY, h);
    if (j == NULL) return oom_failure();
    j->timeout_ms = (uint32_t) c_timeout;
    j->method = dup_or_null(c_method);
    if (j->method == NULL || !copy_raw(j, request)) {
        job_free(j);
        return oom_failure();
    }
    return job_complete(j, conv_buffer);
}

SEXP mk_c_stream(SEXP conn, SEXP method, SEXP timeout_ms) {
    const char *c_method = req_string(method, "method");
    int c_timeout = int_arg(timeout_ms, "timeout");
    int wrong;
    mk_handle *h = handle_get(conn, H_CHANNEL, &wrong);
    sigset_t mask;
    job *j;

    if (h == NULL) return closed_failure(wrong, "connection");
    j = job_new(OP_NONE);
    if (j == NULL) return oom_failure();
    /* minknow_call_start never blocks: no thread needed. SIGPIPE is
     * blocked around it in case it is what starts the library's runtime
     * (in a forked child). */
    mask = sigpipe_block();
    j->st = minknow_call_start((minknow_channel *) h->ptr, c_method, (uint32_t) c_timeout,
                               &j->call, &j->err);
    sigpipe_restore(mask);
    return job_finish(j, conv_call);
}

SEXP mk_c_send(SEXP stream, SEXP message) {
    int wrong;
    mk_handle *h;
    job *j;

    if (TYPEOF(message) != RAWSXP) Rf_error("'message' must be a raw vector");
    h = handle_get(stream, H_CALL, &wrong);
    if (h == NULL) return closed_failure(wrong, "stream");
    j = job_with_handle(OP_SEND, h);
    if (j == NULL) return oom_failure();
    if (!copy_raw(j, message)) {
        job_free(j);
        return oom_failure();
    }
    return job_complete(j, conv_true);
}

SEXP mk_c_close_send(SEXP stream) {
    sigset_t mask;
    int wrong;
    mk_handle *h = handle_get(stream, H_CALL, &wrong);
    job *j;

    if (h == NULL) return closed_failure(wrong, "stream");
    j = job_new(OP_NONE);
    if (j == NULL) return oom_failure();
    mask = sigpipe_block();
    j->st = minknow_call_close_send((minknow_call *) h->ptr, &j->err);
    sigpipe_restore(mask);
    return job_finish(j, conv_true);
}

SEXP mk_c_recv(SEXP stream) {
    int wrong, rc;
    mk_handle *h = handle_get(stream, H_CALL, &wrong);
    job *j;

    if (h == NULL) return closed_failure(wrong, "stream");
    j = job_with_handle(OP_RECV, h);
    if (j == NULL) return oom_failure();
    rc = job_run(j);
    if (rc == JOB_INTERRUPTED) return interrupted();
    if (rc == JOB_NO_THREAD) {
        job_free(j);
        return make_failure("INTERNAL", (int) MINKNOW_STATUS_INTERNAL, NA_INTEGER,
                            "could not start a thread for the call");
    }
    if (j->st == MINKNOW_STATUS_END_OF_STREAM) {
        job_free(j);
        return R_NilValue;
    }
    return job_finish(j, conv_recv);
}

SEXP mk_c_cancel(SEXP stream) {
    sigset_t mask;
    int wrong;
    mk_handle *h = handle_get(stream, H_CALL, &wrong);

    if (h == NULL) {
        if (wrong) return closed_failure(wrong, "stream");
        return Rf_ScalarLogical(FALSE); /* closed: nothing to cancel */
    }
    mask = sigpipe_block();
    minknow_call_cancel((minknow_call *) h->ptr);
    sigpipe_restore(mask);
    return Rf_ScalarLogical(TRUE);
}

/* Close a connection or stream: TRUE if it was open. Idempotent. */
SEXP mk_c_close(SEXP x) {
    mk_handle *h;

    if (TYPEOF(x) != EXTPTRSXP ||
        (R_ExternalPtrTag(x) != sym_channel_tag && R_ExternalPtrTag(x) != sym_call_tag)) {
        return closed_failure(1, "connection or stream");
    }
    h = (mk_handle *) R_ExternalPtrAddr(x);
    if (h == NULL) return Rf_ScalarLogical(FALSE);
    R_ClearExternalPtr(x);
    handle_release(h);
    return Rf_ScalarLogical(TRUE);
}

SEXP mk_c_is_open(SEXP x) {
    return Rf_ScalarLogical(TYPEOF(x) == EXTPTRSXP && R_ExternalPtrAddr(x) != NULL);
}

/* list(host, port, kind) of a connection; NULL when closed. Never blocks. */
SEXP mk_c_endpoint(SEXP conn) {
    static const char *kinds[] = {"manager", "position", "basecaller", "port", "stream"};
    const char *names[] = {"host", "port", "kind", ""};
    int wrong;
    mk_handle *h = handle_get(conn, H_CHANNEL, &wrong);
    const minknow_channel *ch;
    SEXP res;

    if (h == NULL) {
        if (wrong) return closed_failure(wrong, "connection");
        return R_NilValue;
    }
    ch = (const minknow_channel *) h->ptr;
    /* The accessors never block and the strings they return are borrowed
     * from the channel, which R holds: nothing to free on an R error. */
    res = PROTECT(Rf_mkNamed(VECSXP, names));
    SET_VECTOR_ELT(res, 0, str_or_empty(minknow_channel_host(ch)));
    SET_VECTOR_ELT(res, 1, Rf_ScalarInteger((int) minknow_channel_port(ch)));
    SET_VECTOR_ELT(res, 2, Rf_mkString(kinds[h->kind]));
    UNPROTECT(1);
    return res;
}

/* ---- log messages ------------------------------------------------------ */

/* The library calls log_enqueue on any thread, so R cannot be called
 * there. Messages wait in a bounded queue in C memory; R takes them on
 * its own thread (mk_c_log_take, after every mk_* call and from
 * mk_flush_log) and delivers them with message() or the user's function.
 * When the queue is full the oldest message makes room and is counted as
 * dropped.
 *
 * The queue is the user data of the registered callback. Each
 * registration holds a reference, so replacing the callback (a new level
 * or handler) keeps the same queue and what it holds; the library's
 * destroy callback drops the reference, and the last frees the queue.
 * g_log guards the queue, its references and g_log_queue. */

enum { LOG_CAPACITY = 1000 };

typedef struct log_entry {
    int level;
    char *text;
} log_entry;

typedef struct log_queue {
    int refs;                      /* registrations that hold it */
    size_t head, count;            /* index of the oldest entry; entries held */
    double dropped;                /* lost since the last take */
    log_entry ring[LOG_CAPACITY];
} log_queue;

static log_queue *g_log_queue; /* the current queue, NULL when none */

static void log_enqueue(void *user_data, int32_t level, const char *message) {
    log_queue *q = (log_queue *) user_data;
    char *text = strdup(message != NULL ? message : "");

    pthread_mutex_lock(&g_log);
    if (text == NULL) {
        q->dropped += 1;
    } else {
        if (q->count == LOG_CAPACITY) {
            free(q->ring[q->head].text);
            q->head = (q->head + 1) % LOG_CAPACITY;
            q->count--;
            q->dropped += 1;
        }
        q->ring[(q->head + q->count) % LOG_CAPACITY].level = (int) level;
        q->ring[(q->head + q->count) % LOG_CAPACITY].text = text;
        q->count++;
    }
    pthread_mutex_unlock(&g_log);
}

/* The library's destroy callback: called once no message is being
 * delivered to this registration. */
static void log_release(void *user_data) {
    log_queue *q = (log_queue *) user_data;
    size_t i;
    int last;

    pthread_mutex_lock(&g_log);
    last = --q->refs == 0;
    if (last && g_log_queue == q) g_log_queue = NULL;
    pthread_mutex_unlock(&g_log);
    if (!last) return;
    /* No registration holds q and g_log_queue no longer names it. */
    for (i = 0; i < q->count; i++) free(q->ring[(q->head + i) % LOG_CAPACITY].text);
    free(q);
}

/* Send messages up to `level` (a minknow_log_level) to the queue, or stop
 * (MINKNOW_LOG_LEVEL_OFF): the queue is freed once the library lets go of
 * it, with whatever it still holds. */
SEXP mk_c_log_set(SEXP level) {
    int c_level = int_arg(level, "level");
    log_queue *q;
    job *j = job_new(OP_NONE);

    if (j == NULL) return oom_failure();
    if (c_level == MINKNOW_LOG_LEVEL_OFF) {
        j->st = minknow_set_log_callback(MINKNOW_LOG_LEVEL_OFF, NULL, NULL, NULL, &j->err);
        return job_finish(j, conv_true);
    }
    pthread_mutex_lock(&g_log);
    q = g_log_queue;
    if (q == NULL) q = (log_queue *) calloc(1, sizeof(log_queue));
    if (q != NULL) {
        q->refs++; /* this registration's; log_release drops it, on errors too */
        g_log_queue = q;
    }
    pthread_mutex_unlock(&g_log);
    if (q == NULL) {
        job_free(j);
        return oom_failure();
    }
    j->st = minknow_set_log_callback(c_level, log_enqueue, q, log_release, &j->err);
    return job_finish(j, conv_true);
}

typedef struct log_taken {
    log_entry *entries;
    size_t count;
    double dropped;
} log_taken;

static void log_taken_free(log_taken *t) {
    size_t i;
    for (i = 0; i < t->count; i++) free(t->entries[i].text);
    free(t->entries);
    t->entries = NULL;
    t->count = 0;
}

static SEXP log_taken_body(void *data) {
    const char *names[] = {"levels", "messages", "dropped", ""};
    log_taken *t = (log_taken *) data;
    SEXP res = PROTECT(Rf_mkNamed(VECSXP, names));
    SEXP levels = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t) t->count));
    SEXP messages = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t) t->count));
    size_t i;

    for (i = 0; i < t->count; i++) {
        INTEGER(levels)[i] = t->entries[i].level;
        SET_STRING_ELT(messages, (R_xlen_t) i, Rf_mkCharCE(t->entries[i].text, CE_UTF8));
    }
    SET_VECTOR_ELT(res, 0, levels);
    SET_VECTOR_ELT(res, 1, messages);
    SET_VECTOR_ELT(res, 2, Rf_ScalarReal(t->dropped));
    UNPROTECT(3);
    return res;
}

static void log_taken_cleanup(void *data, Rboolean jump) {
    if (jump) log_taken_free((log_taken *) data);
}

/* Empty the queue: list(levels, messages, dropped), oldest first. Called
 * on R's thread only. */
SEXP mk_c_log_take(void) {
    log_taken t = {NULL, 0, 0};
    log_queue *q;
    SEXP cont, res;
    size_t i;

    pthread_mutex_lock(&g_log);
    q = g_log_queue;
    if (q != NULL && q->count > 0) {
        t.entries = (log_entry *) malloc(q->count * sizeof(log_entry));
        if (t.entries != NULL) {
            for (i = 0; i < q->count; i++) t.entries[i] = q->ring[(q->head + i) % LOG_CAPACITY];
            t.count = q->count;
            q->head = 0;
            q->count = 0;
        }
    }
    if (q != NULL) {
        t.dropped = q->dropped;
        q->dropped = 0;
    }
    pthread_mutex_unlock(&g_log);

    cont = PROTECT(R_MakeUnwindCont());
    res = PROTECT(R_UnwindProtect(log_taken_body, &t, log_taken_cleanup, &t, cont));
    log_taken_free(&t);
    UNPROTECT(2);
    return res;
}

/* For the tests only: queue `n` numbered messages at debug level as the
 * library would, to show the bound and the drop count. FALSE when no
 * callback is installed. */
SEXP mk_c_log_test_fill(SEXP n) {
    int c_n = int_arg(n, "n"), i;
    char text[64];
    log_queue *q;

    pthread_mutex_lock(&g_log);
    q = g_log_queue;
    if (q != NULL) q->refs++; /* held while filling, off the lock */
    pthread_mutex_unlock(&g_log);
    if (q == NULL) return Rf_ScalarLogical(FALSE);
    for (i = 0; i < c_n; i++) {
        snprintf(text, sizeof text, "test message %d", i + 1);
        log_enqueue(q, MINKNOW_LOG_LEVEL_DEBUG, text);
    }
    log_release(q);
    return Rf_ScalarLogical(TRUE);
}

/* ---- registration ----------------------------------------------------- */

static const R_CallMethodDef call_methods[] = {
    {"mk_c_library_version", (DL_FUNC) &mk_c_library_version, 0},
    {"mk_c_connect", (DL_FUNC) &mk_c_connect, 11},
    {"mk_c_version", (DL_FUNC) &mk_c_version, 1},
    {"mk_c_host", (DL_FUNC) &mk_c_host, 1},
    {"mk_c_positions", (DL_FUNC) &mk_c_positions, 1},
    {"mk_c_basecaller_port", (DL_FUNC) &mk_c_basecaller_port, 1},
    {"mk_c_open_position", (DL_FUNC) &mk_c_open_position, 2},
    {"mk_c_open_basecaller", (DL_FUNC) &mk_c_open_basecaller, 1},
    {"mk_c_open_port", (DL_FUNC) &mk_c_open_port, 2},
    {"mk_c_unary", (DL_FUNC) &mk_c_unary, 4},
    {"mk_c_stream", (DL_FUNC) &mk_c_stream, 3},
    {"mk_c_send", (DL_FUNC) &mk_c_send, 2},
    {"mk_c_close_send", (DL_FUNC) &mk_c_close_send, 1},
    {"mk_c_recv", (DL_FUNC) &mk_c_recv, 1},
    {"mk_c_cancel", (DL_FUNC) &mk_c_cancel, 1},
    {"mk_c_close", (DL_FUNC) &mk_c_close, 1},
    {"mk_c_is_open", (DL_FUNC) &mk_c_is_open, 1},
    {"mk_c_endpoint", (DL_FUNC) &mk_c_endpoint, 1},
    {"mk_c_diagnose", (DL_FUNC) &mk_c_diagnose, 11},
    {"mk_c_log_set", (DL_FUNC) &mk_c_log_set, 1},
    {"mk_c_log_take", (DL_FUNC) &mk_c_log_take, 0},
    {"mk_c_log_test_fill", (DL_FUNC) &mk_c_log_test_fill, 1},
    {NULL, NULL, 0}};

void attribute_visible R_init_minknowauth(DllInfo *dll) {
    sym_channel_tag = Rf_install("minknow_channel");
    sym_call_tag = Rf_install("minknow_call");
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}

/* The library must not call log_enqueue once this code is unloaded: stop
 * logging, then wait (at most 2 s) until the library has let go of the
 * queue, which it does once no message is being delivered. */
void attribute_visible R_unload_minknowauth(DllInfo *dll) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    int i, held = 1;

    (void) dll;
    minknow_set_log_callback(MINKNOW_LOG_LEVEL_OFF, NULL, NULL, NULL, NULL);
    for (i = 0; i < 200 && held; i++) {
        pthread_mutex_lock(&g_log);
        held = g_log_queue != NULL;
        pthread_mutex_unlock(&g_log);
        if (held) nanosleep(&pause, NULL);
    }
}
