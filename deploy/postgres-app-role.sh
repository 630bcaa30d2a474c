#!/usr/bin/env bash
# First start of the database volume (docker-entrypoint-initdb.d): the login role the web, socket
# and worker processes connect as. No superuser, no BYPASSRLS: PostgreSQL's row-level security
# binds it, and it cannot switch back to the owner. The migrations (run as the owner) grant it
# what it may do.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v role="${DATABASE_APP_ROLE:-dispatch_app}" -v password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
SQL
