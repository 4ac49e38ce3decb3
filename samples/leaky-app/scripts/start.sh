#!/bin/sh
# Serves the static front end and the health check with busybox httpd (port 8080).
set -e
exec httpd -f -p "${PORT:-8080}" -h /app/www
