/* pool.c: worker threads scanning queued files (see pool.h). */
#define _GNU_SOURCE
#include "engine/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/util.h"

#define QUEUE_LEN 1024
#define MAX_JOBS 256

/* A file on disk (fs_path set, read by scan_file), bytes in memory (data, loc), or a call. */
struct job {
    rmg_pool_call_fn call;
    void *call_arg;
    rmg_pool_file_fn scan_file;
    char *target, *fs_path, *rel_path;
    struct rmg_location loc;
    void *data;
    size_t len;
};

struct worker {
    struct rmg_pool *pool;
    pthread_t thread;
    struct rmg_scanner *sc;
    struct rmg_results res;
    bool started;
};

struct rmg_pool {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    struct job q[QUEUE_LEN];
    size_t head, count;
    size_t queued_bytes;
    bool closing;
    int n_workers;
    struct worker *workers;
};

static void job_free(struct job *j)
{
    free(j->target);
    free(j->fs_path);
    free(j->rel_path);
    rmg_location_free(&j->loc);
    free(j->data);
}

static void run_job(struct worker *w, struct job *j)
{
    if (j->call) {
        j->call(j->call_arg);
    } else if (j->fs_path) {
        struct rmg_location loc = {.target = j->target, .path = j->rel_path, .layer_index = -1};
        j->scan_file(w->sc, j->fs_path, &loc, &w->res);
    } else {
        size_t before = w->res.n_findings;
        rmg_scan_buffer(w->sc, j->data, j->len, &j->loc, &w->res);
        /* Provenance compares a file with findings to what its package installed: only those
         * files are hashed, while their bytes are still here. */
        if (w->res.n_findings > before) {
            struct rmg_content_digest d;
            rmg_digest_buffer(j->data, j->len, &d);
            for (size_t i = before; i < w->res.n_findings; i++)
                w->res.findings[i].content = d;
        }
    }
    job_free(j);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct rmg_pool *p = w->pool;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->count == 0 && !p->closing)
            pthread_cond_wait(&p->not_empty, &p->mu);
        if (p->count == 0) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        struct job j = p->q[p->head];
        p->head = (p->head + 1) % QUEUE_LEN;
        p->count--;
        p->queued_bytes -= j.len;
        pthread_cond_broadcast(&p->not_full);
        pthread_mutex_unlock(&p->mu);
        run_job(w, &j);
    }
}

struct rmg_pool *rmg_pool_new(const struct rmg_rules *rules, const struct rmg_scan_opts *opts,
                              int jobs)
{
    if (jobs <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = n > 0 ? (int)n : 1;
    }
    if (jobs > MAX_JOBS)
        jobs = MAX_JOBS;
    struct rmg_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->workers = calloc((size_t)jobs, sizeof *p->workers);
    if (!p->workers) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->not_empty, NULL);
    pthread_cond_init(&p->not_full, NULL);
    p->n_workers = jobs;
    for (int i = 0; i < jobs; i++) {
        struct worker *w = &p->workers[i];
        w->pool = p;
        rmg_results_init(&w->res);
        w->sc = rmg_scanner_new(rules, opts);
        if (!w->sc)
            goto fail;
    }
    if (jobs > 1) {
        for (int i = 0; i < jobs; i++) {
            if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0)
                goto fail;
            p->workers[i].started = true;
        }
    }
    return p;
fail:
    {
        struct rmg_results sink;
        rmg_results_init(&sink);
        rmg_pool_finish(p, &sink);
        rmg_results_clear(&sink);
    }
    return NULL;
}

static enum rmg_status enqueue(struct rmg_pool *p, struct job *j)
{
    if (p->n_workers == 1 || !p->workers[0].started) {
        run_job(&p->workers[0], j);
        return RMG_OK;
    }
    pthread_mutex_lock(&p->mu);
    while (p->count == QUEUE_LEN || (p->count && p->queued_bytes + j->len > RMG_POOL_MAX_QUEUED))
        pthread_cond_wait(&p->not_full, &p->mu);
    p->q[(p->head + p->count) % QUEUE_LEN] = *j;
    p->count++;
    p->queued_bytes += j->len;
    pthread_cond_signal(&p->not_empty);
    pthread_mutex_unlock(&p->mu);
    return RMG_OK;
}

enum rmg_status rmg_pool_submit(struct rmg_pool *p, rmg_pool_file_fn scan_file,
                                const char *target, const char *fs_path, const char *rel_path)
{
    struct job j = {.scan_file = scan_file, .target = rmg_strdup(target),
                    .fs_path = rmg_strdup(fs_path), .rel_path = rmg_strdup(rel_path)};
    if (!j.target || !j.fs_path || !j.rel_path) {
        job_free(&j);
        return RMG_ENOMEM;
    }
    return enqueue(p, &j);
}

enum rmg_status rmg_pool_submit_call(struct rmg_pool *p, rmg_pool_call_fn fn, void *arg,
                                     size_t bytes)
{
    struct job j = {.call = fn, .call_arg = arg, .len = bytes};
    return enqueue(p, &j);
}

enum rmg_status rmg_pool_submit_buffer(struct rmg_pool *p, const struct rmg_location *loc,
                                       void *data, size_t len)
{
    struct job j = {.data = data, .len = len};
    if (!rmg_location_copy(&j.loc, loc)) {
        free(data);
        return RMG_ENOMEM;
    }
    return enqueue(p, &j);
}

enum rmg_status rmg_pool_finish(struct rmg_pool *p, struct rmg_results *out)
{
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    pthread_cond_broadcast(&p->not_empty);
    pthread_mutex_unlock(&p->mu);
    enum rmg_status st = RMG_OK;
    for (int i = 0; i < p->n_workers; i++) {
        struct worker *w = &p->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        if (rmg_results_merge(out, &w->res) != RMG_OK)
            st = RMG_ENOMEM;
        rmg_results_clear(&w->res);
        rmg_scanner_free(w->sc);
    }
    while (p->count) {
        struct job *j = &p->q[p->head];
        if (j->call)
            j->call(j->call_arg); /* it owns its argument: run it rather than leak it */
        job_free(j);
        p->head = (p->head + 1) % QUEUE_LEN;
        p->count--;
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->not_empty);
    pthread_cond_destroy(&p->not_full);
    free(p->workers);
    free(p);
    return st;
}
