-- Steunkaart in PostgreSQL/PostGIS: the rights of the app's role on the tables, as steunkaart_owner or a
-- superuser, in the Steunkaart database. Run it after Steunkaart has created its tables (the first
-- cli.py init or cli.py copy-store) and again after an update of Steunkaart; running it twice changes nothing.
--
--   psql "postgresql://steunkaart_owner@HOST/steunkaart" -f grants.sql
\set ON_ERROR_STOP on
BEGIN;

GRANT USAGE ON SCHEMA public TO steunkaart_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO steunkaart_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO steunkaart_app;

-- The audit log is append-only for the app: it adds and reads entries, never changes or removes one.
-- (Steunkaart's own trigger on audit also refuses UPDATE, DELETE and TRUNCATE for every role.)
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM steunkaart_app;

-- PostGIS's own table and views stay read-only for the app. Only a superuser's GRANT above included them (they
-- belong to the superuser: for steunkaart_owner PostgreSQL warns that it granted nothing on them, as intended).
SELECT rolsuper AS is_superuser FROM pg_roles WHERE rolname = current_user \gset
\if :is_superuser
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON spatial_ref_sys, geometry_columns, geography_columns FROM steunkaart_app;
\endif

COMMIT;
