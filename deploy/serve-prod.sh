#!/usr/bin/env bash
# Bring the production stack up on one machine: migrate, gunicorn, nginx in front.
#
# Settings come from the environment (nothing has a production default):
#   SECRET_KEY     (required) long random value
#   DATABASE_URL   (required) postgresql://user:pass@host:5432/db
#   REDIS_URL      redis://host:6379/0 (throttles and the facet cache shared by all workers)
#   MEDIA_S3_ENDPOINT MEDIA_S3_BUCKET MEDIA_S3_KEY MEDIA_S3_SECRET [MEDIA_S3_REGION]
#                  media on S3-compatible storage; unset = MEDIA_ROOT on local disk
#   PORT           nginx's port (default 8080); GUNICORN_BIND (default 127.0.0.1:8000)
#   RUN_DIR        pid files, logs, nginx temp files (default ./instance/run)
#   GUNICORN_WORKERS / GUNICORN_MAX_WORKERS / GUNICORN_THREADS (deploy/gunicorn.conf.py)
#   DATABASE_STATEMENT_TIMEOUT_MS  cancels a web request's statement after this (default 15000)
# Stops both servers on Ctrl-C / SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
BIN="${BIN:-$ROOT/.venv/bin}"

: "${SECRET_KEY:?set SECRET_KEY to a long random value}"
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database}"
export SECRET_KEY DATABASE_URL
export SHOP_ENV=production
export SHOP_TRUSTED_PROXIES="${SHOP_TRUSTED_PROXIES:-1}"
PORT="${PORT:-8080}"
export GUNICORN_BIND="${GUNICORN_BIND:-127.0.0.1:8000}"
RUN_DIR="${RUN_DIR:-$ROOT/instance/run}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
mkdir -p "$RUN_DIR"

# Migrations first (never under the statement timeout), then the web workers.
"$BIN/flask" --app app db upgrade

MAX_BODY="$("$BIN/python" -c 'from config import Config; print(Config.MAX_CONTENT_LENGTH)')"
IMPORT_BODY="$("$BIN/python" -c 'from config import Config; print(Config.IMPORT_MAX_UPLOAD_BYTES)')"
sed -e "s|@LISTEN@|${NGINX_LISTEN:-$PORT}|g" \
    -e "s|@UPSTREAM@|$GUNICORN_BIND|g" \
    -e "s|@STATIC_ROOT@|$ROOT/static|g" \
    -e "s|@CLIENT_MAX_BODY_SIZE@|$MAX_BODY|g" \
    -e "s|@IMPORT_MAX_BODY_SIZE@|$IMPORT_BODY|g" \
    -e "s|@RUN_DIR@|$RUN_DIR|g" \
    -e "s|@USER@|${NGINX_USER:-$(id -un)}|g" \
    deploy/nginx.conf >"$RUN_DIR/nginx.conf"
"$NGINX" -t -q -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log"

DATABASE_STATEMENT_TIMEOUT_MS="${DATABASE_STATEMENT_TIMEOUT_MS:-15000}" \
    "$BIN/gunicorn" -c deploy/gunicorn.conf.py --pid "$RUN_DIR/gunicorn.pid" app:app &
GUNICORN_PID=$!
"$NGINX" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log" -g "daemon off;" &
NGINX_PID=$!

stop() {
    kill -TERM "$NGINX_PID" "$GUNICORN_PID" 2>/dev/null || true
    wait "$NGINX_PID" "$GUNICORN_PID" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "Chợ HTX (production) is at http://127.0.0.1:$PORT (gunicorn on $GUNICORN_BIND)"
wait -n "$GUNICORN_PID" "$NGINX_PID"
