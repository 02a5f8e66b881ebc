"""On PostgreSQL the audit log refuses UPDATE and DELETE at the database level.

(TRUNCATE, which tests use to reset tables, is not a row event.) SQLite installs rely on the
application, which never changes a row, and on the hash chain, which shows any change.
"""

from django.db import migrations

FORWARD = [
    "CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry "
    "FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only()",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry",
    "DROP FUNCTION IF EXISTS core_auditentry_append_only()",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("core", "0001_audit_log_and_notifications")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
