/*
 * HTTP GET for workloads, on libcurl. The run starts the embedded server (in a process of its
 * own) when a parameter names the host `local`, and rewrites that host to it. Blocking models
 * keep one easy handle per lane (keep-alive, like a requests.Session); the epoll model provides
 * its own suspending GET through the wait ops.
 */
#include "internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>

#define LOCAL "://local"

static bool names_local(const struct cv_scenario *s)
{
    for (size_t i = 0; i < s->nparams; i++)
        if (strstr(s->params[i].value, LOCAL))
            return true;
    return false;
}

/* "Connection: close", for transfers that will not reuse their connection (made once, as libcurl
 * is, and kept for the process's life) */
static struct curl_slist *close_header;

int cv__http_setup(struct cv_run *run, char **cause)
{
    static int curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        close_header = curl_slist_append(NULL, "Connection: close");
        curl_ready = 1;
    }
    if (!names_local(run->sc))
        return CV_OK;
    run->httpd = cv_xcalloc(1, sizeof *run->httpd);
    int rc = cv_httpd_spawn(0, run->httpd, cause);
    if (rc != CV_OK) {
        free(run->httpd);
        run->httpd = NULL;
    }
    return rc;
}

void cv__http_teardown(struct cv_run *run)
{
    for (uint32_t i = 0; run->ctxs && i < run->nlanes; i++) {
        if (run->ctxs[i].http)
            curl_easy_cleanup(run->ctxs[i].http);
        run->ctxs[i].http = NULL;
    }
    if (run->httpd) {
        cv_httpd_reap(run->httpd);
        free(run->httpd);
        run->httpd = NULL;
    }
}

bool cv__http_watch(struct cv_run *run, bool final)
{
    struct cv_httpd_proc *p = run->httpd;
    pid_t pid;
    int status = 0;
    if (!p || !cv_httpd_exited(p, final, &pid, &status))
        return false;
    char what[96];
    if (WIFSIGNALED(status))
        snprintf(what, sizeof what, "was killed by signal %d (SIG%s)", WTERMSIG(status),
                 cv__signal_name(WTERMSIG(status)));
    else
        snprintf(what, sizeof what, "exited with status %d", WEXITSTATUS(status));
    char *msg =
        cv_strdup_printf("the embedded HTTP server cv:httpd (pid %d) %s; the requests to it "
                         "after that failed",
                         (int)pid, what);
    /* first in the errors, so the run's one line names the cause, not the requests it failed */
    cv__run_error_first(run, msg);
    free(msg);
    run->httpd_died = true;
    return true;
}

char *cv__http_resolve(struct cv_run *run, const char *url)
{
    const char *at = strstr(url, LOCAL);
    if (!at || !run->httpd ||
        (at[strlen(LOCAL)] != '/' && at[strlen(LOCAL)] != 0 && at[strlen(LOCAL)] != ':'))
        return NULL;
    const char *rest = at + strlen(LOCAL);
    if (*rest == ':') /* a port given with `local` is replaced */
        while (*rest && *rest != '/')
            rest++;
    return cv_strdup_printf("%.*s://127.0.0.1:%u%s", (int)(at - url), url, run->httpd->port, rest);
}

static size_t count_body(char *p, size_t size, size_t n, void *user)
{
    struct cv_http_result *res = user;
    size_t len = size * n, room = sizeof res->head - 1;
    if (res->bytes < room) {
        size_t take = room - res->bytes < len ? room - res->bytes : len;
        memcpy(res->head + res->bytes, p, take);
        res->head[res->bytes + take] = 0;
    }
    res->bytes += len;
    return len;
}

/* Aborts a transfer once the run is stopping. */
static int progress(void *user, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return cv_stopping(user) ? 1 : 0;
}

void cv__http_easy_options(void *easy, struct cv_ctx *ctx)
{
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, 10L);
    uint64_t ms = ctx->run->request_timeout_ms;
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(ms ? ms : 120000));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_body);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, ctx);
}

void cv__http_one_shot(void *easy)
{
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    if (close_header)
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, close_header);
}

void cv__http_fill(struct cv_http_result *res, void *easy, int code)
{
    res->error = code;
    res->status = 0;
    if (code == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res->status);
    snprintf(res->message, sizeof res->message, "%s",
             code == CURLE_OK ? "ok" : curl_easy_strerror((CURLcode)code));
}

enum cv_http_outcome cv_http_outcome(const struct cv_http_result *res)
{
    if (res->server_gone)
        return CV_HTTP_ERROR; /* not a reset, a timeout or a server error: a dead server */
    switch (res->error) {
    case CURLE_OK:
        return res->status >= 500   ? CV_HTTP_SERVER_ERROR
               : res->status >= 400 ? CV_HTTP_CLIENT_ERROR
                                    : CV_HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return CV_HTTP_TIMEOUT;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return CV_HTTP_RESET;
    default:
        return CV_HTTP_ERROR;
    }
}

bool cv_http_get(struct cv_ctx *ctx, const char *url, struct cv_http_result *res)
{
    memset(res, 0, sizeof *res);
    /* on the heap, not the stack: an epoll task's whole stack is one page (see coro.c) */
    char *resolved = cv__http_resolve(ctx->run, url);
    bool local = resolved != NULL;
    if (resolved)
        url = resolved;
    cv_emit(ctx, CV_EV_IO_BEGIN, cv__intern(ctx->run, url), CV_IO_HTTP);
    bool got;
    if (ctx->wait->http_get) {
        got = ctx->wait->http_get(ctx, url, res);
    } else {
        cv__wait_begin(ctx);
        CURL *easy = ctx->http;
        if (!easy) {
            easy = ctx->http = curl_easy_init();
            if (easy)
                cv__http_easy_options(easy, ctx);
        }
        if (!easy) {
            res->error = CURLE_OUT_OF_MEMORY;
            snprintf(res->message, sizeof res->message, "cannot create a libcurl handle");
            got = false;
        } else {
            curl_easy_setopt(easy, CURLOPT_URL, url);
            curl_easy_setopt(easy, CURLOPT_WRITEDATA, res);
            cv__http_fill(res, easy, curl_easy_perform(easy));
            got = res->error == CURLE_OK;
        }
    }
    /* No answer from the embedded server: it may have died (the run notices and fails with one
     * line, cv__http_watch); then this is no reset or timeout of the network. */
    if (!got && local && ctx->run->httpd && cv_httpd_gone(ctx->run->httpd)) {
        res->server_gone = true;
        snprintf(res->message, sizeof res->message, "the embedded HTTP server is gone");
    }
    free(resolved);
    cv_emit(ctx, CV_EV_IO_END, CV_NO_OBJ, (uint64_t)res->status);
    if (!ctx->wait->http_get)
        cv__wait_end(ctx);
    return got;
}
