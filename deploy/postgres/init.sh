#!/bin/sh
# First start of the database volume only (mounted into /docker-entrypoint-initdb.d by deploy/compose.yaml):
# the roles and the extension of init.sql, with the passwords from deploy/.env.
# No "set -e": the entrypoint may source this file; psql stops at the first error and its exit code is ours.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$STEUNKAART_OWNER_PASSWORD" -v app_password="$STEUNKAART_APP_PASSWORD" \
    -f /steunkaart/init.sql
