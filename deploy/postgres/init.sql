-- Steunkaart in PostgreSQL/PostGIS: the roles and the extension, once per database, as a superuser.
--
--   psql -v owner_password=... -v app_password=... -d steunkaart -f init.sql
--
-- deploy/compose.yaml runs it at the first start of the database volume (deploy/postgres/init.sh), with the
-- passwords from deploy/.env. Safe to run again: existing roles keep their rights and get the given passwords.
-- After Steunkaart has created its tables (cli.py init or cli.py copy-store, as steunkaart_owner), run
-- grants.sql.
--
-- steunkaart_owner owns the schema: it creates the tables, runs the migrations of a new Steunkaart version and
-- cli.py copy-store. steunkaart_app is the login of the app servers: it reads and writes the data but cannot
-- change the schema, and may only add to the audit log (grants.sql).
\set ON_ERROR_STOP on

\if :{?owner_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'Geef de wachtwoorden mee: psql -v owner_password=... -v app_password=... -f init.sql'; END $$;
\endif
\if :{?app_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'Geef de wachtwoorden mee: psql -v owner_password=... -v app_password=... -f init.sql'; END $$;
\endif

SELECT 'CREATE ROLE steunkaart_owner' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'steunkaart_owner')
\gexec
SELECT 'CREATE ROLE steunkaart_app' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'steunkaart_app')
\gexec
ALTER ROLE steunkaart_owner WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
ALTER ROLE steunkaart_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';

-- PostGIS needs a superuser (or a trusted extension) to install; Steunkaart only checks that it is there.
CREATE EXTENSION IF NOT EXISTS postgis;

-- Only the two roles (and superusers) may connect to this database.
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
-- TEMPORARY: imports use a temporary table for the codes they replace.
GRANT CONNECT, TEMPORARY ON DATABASE :"DBNAME" TO steunkaart_owner, steunkaart_app;

-- The schema belongs to steunkaart_owner; the app may use it but not create anything in it.
ALTER SCHEMA public OWNER TO steunkaart_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO steunkaart_app;

-- Tables and sequences that steunkaart_owner creates from now on (also in later migrations) are open to the
-- app at once; grants.sql then takes the changing rights on audit away again.
ALTER DEFAULT PRIVILEGES FOR ROLE steunkaart_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO steunkaart_app;
ALTER DEFAULT PRIVILEGES FOR ROLE steunkaart_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO steunkaart_app;
