# Tenant isolation in PostgreSQL: every table with a tenant column shows and accepts only the
# rows of the tenants in the session's `app.tenants` (core.tenancy), for the application role,
# which cannot bypass it; the audit trail of status changes is append-only for that role.

from django.conf import settings
from django.db import migrations

from core.db import row_level_security_sql

# Every table with a tenant column but the users' (and their clients'): a session reads its user
# to learn its scope, so identity cannot sit behind the scope. tests/core/test_tenancy.py checks
# this list against the database.
TENANT_TABLES = [
    "accounts_contactpoint",
    "dispatch_decision",
    "dispatch_event",
    "intake_inboundmessage",
    "notifications_notification",
    "requests_app_customer",
    "requests_app_idempotencykey",
    "requests_app_incident",
    "requests_app_servicerequest",
    "requests_app_statuschange",
    "surveys_survey",
    "technicians_absence",
    "technicians_shift",
    "technicians_skill",
    "technicians_technician",
    "technicians_visit",
]
AUDIT_TABLE = "requests_app_statuschange"


def _role() -> str:
    return '"' + settings.DATABASE_APP_ROLE.replace('"', '""') + '"'


def forward(apps, schema_editor):
    role = _role()
    statements = [
        # Cluster-wide, so created once for every database of the server (tests make several).
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal()}) THEN
                CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
              END IF;
            END $$""",
        # An owner that is no superuser may then SET ROLE to it.
        f"GRANT {role} TO CURRENT_USER",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # Tables and sequences later migrations create are the application's to use too.
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
        # The audit trail: written with every transition, never changed or removed.
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM {role}",
        # The application makes a sequence per new tenant (request numbers) without the right
        # to create anything else in the schema.
        f"""CREATE OR REPLACE FUNCTION app_sequence_create(name text, start bigint)
            RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
            BEGIN
              IF name !~ '^[a-z][a-z0-9_]{{0,62}}$' THEN
                RAISE EXCEPTION 'not a plain identifier: %', name;
              END IF;
              EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I START WITH %s', name,
                             greatest(start, 1));
              EXECUTE format('GRANT USAGE, SELECT, UPDATE ON SEQUENCE %I TO %I', name,
                             {_literal()});
            END $$""",
        "REVOKE ALL ON FUNCTION app_sequence_create(text, bigint) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION app_sequence_create(text, bigint) TO {role}",
    ]
    statements += [sql for table in TENANT_TABLES for sql in row_level_security_sql(table)]
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def backward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table in TENANT_TABLES:
            cursor.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
            cursor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        cursor.execute("DROP FUNCTION IF EXISTS app_sequence_create(text, bigint)")


def _literal() -> str:
    return "'" + settings.DATABASE_APP_ROLE.replace("'", "''") + "'"


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("accounts", "0006_tenant_superusers_demoted"),
        ("dispatch", "0003_event_moved_to_core"),
        ("intake", "0001_initial"),
        ("notifications", "0003_due_from_creation"),
        ("requests_app", "0007_per_tenant_numbers_and_tracking_keys"),
        ("surveys", "0001_initial"),
        ("technicians", "0002_emergency_indexes"),
        ("knox", "0009_extend_authtoken_field"),
        ("axes", "0010_accessattemptexpiration"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
