"""Substring search over clients.search_text: pg_trgm on PostgreSQL, FTS5 trigram on SQLite."""

from django.db import migrations


def forward(apps, schema_editor):
    from kartoteka.clients.search_index import ensure

    ensure(schema_editor.connection)


def backward(apps, schema_editor):
    from kartoteka.clients.search_index import FTS, TRIGGERS

    if schema_editor.connection.vendor == "sqlite":
        for name in TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS client_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
