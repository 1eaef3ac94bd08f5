/* libcurl's multi socket interface on the loop's epoll: a task's HTTP GET is a transfer of the
 * one multi handle, and the task parks until it is done. */
#include "loop.h"

#include <stdio.h>
#include <sys/epoll.h>

/* A task's GET. libcurl's own calls (creating the handle, adding it, removing and freeing it) run
 * on the loop's stack, not the task's: they go about 3 KB deep, and with them a task fetching a
 * URL needed two pages of stack instead of one (10,000 tasks: 40 MB more). */
struct http_wait {
    CURL *easy;
    const char *url;
    struct cv_http_result *res;
    bool done;
};

int cv__curl_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socketp)
{
    (void)easy;
    (void)socketp;
    struct loop *L = user;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(L->epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.data.u64 = (uint64_t)fd};
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(L->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

int cv__curl_timer(CURLM *multi, long timeout_ms, void *user)
{
    (void)multi;
    struct loop *L = user;
    L->curl_due = timeout_ms < 0 ? 0 : cv_clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    return 0;
}

/* Finished transfers wake their tasks. */
void cv__curl_done(struct loop *L)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(L->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct co *c = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        if (!c || !c->http)
            continue;
        CURL *easy = msg->easy_handle;
        cv__http_fill(c->http->res, easy, (int)msg->data.result);
        curl_multi_remove_handle(L->multi, easy); /* msg is not read again after this */
        curl_easy_cleanup(easy);
        c->http->easy = NULL;
        c->http->done = true;
        if (c->state == CO_PARKED)
            cv__co_make_ready(L, c);
        else
            c->wake_pending = true;
    }
}

/* A task that has just parked on a GET (cv__co_http_get): its transfer starts here, on the
 * loop's stack. */
void cv__curl_start(struct loop *L, struct co *c)
{
    struct http_wait *w = c->http;
    if (!w || w->easy || w->done)
        return;
    struct cv_ctx *ctx = &L->run->ctxs[c->lane];
    CURL *easy = curl_easy_init();
    if (!easy) {
        w->res->error = CURLE_OUT_OF_MEMORY;
        snprintf(w->res->message, sizeof w->res->message, "cannot create a libcurl handle");
        w->done = true;
        cv__co_make_ready(L, c);
        return;
    }
    cv__http_easy_options(easy, ctx);
    if (task_count(L->run) > LOOP_MANY_TASKS)
        curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 1024L); /* libcurl's smallest */
    curl_easy_setopt(easy, CURLOPT_URL, w->url);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, w->res);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, c);
    /* Debian's libcurl 7.88 searches its connection pool linearly: thousands of concurrent
     * transfers are far faster on fresh connections. */
    cv__http_one_shot(easy);
    w->easy = easy;
    curl_multi_add_handle(L->multi, easy);
}

bool cv__co_http_get(struct cv_ctx *ctx, const char *url, struct cv_http_result *res)
{
    struct loop *L = cv__g_loop;
    struct co *c = &L->cos[ctx->lane];
    struct http_wait w = {.url = url, .res = res};
    c->http = &w;
    while (!w.done && !cv_stopping(ctx))
        cv__co_park(ctx, 0); /* the loop starts the transfer once this task has parked */
    if (!w.done) {
        res->error = CURLE_ABORTED_BY_CALLBACK;
        snprintf(res->message, sizeof res->message, "stopped");
    }
    c->http = NULL;
    if (w.easy) { /* stopped before the end: the rare case runs on the task's stack */
        curl_multi_remove_handle(L->multi, w.easy);
        curl_easy_cleanup(w.easy);
    }
    return w.done && res->error == 0;
}
