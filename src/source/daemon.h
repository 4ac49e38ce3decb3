/* daemon.h: `docker-daemon:NAME[:TAG]`: an image in the local Docker or Podman daemon,
 * streamed from the Engine API (GET /images/{name}/get) into the image reader. */
#ifndef RMG_SOURCE_DAEMON_H
#define RMG_SOURCE_DAEMON_H

#include "source/source.h"

/* Scans image `name` of the daemon at $DOCKER_HOST (unix:///PATH or tcp://HOST:PORT; default
 * unix:///var/run/docker.sock). A daemon that cannot be reached, or does not have the image,
 * is RMG_EINPUT with its message. Findings and errors go to out. */
enum rmg_status rmg_source_daemon(const struct rmg_scan_ctx *ctx, const char *target,
                                  const char *name, struct rmg_results *out);

#endif
