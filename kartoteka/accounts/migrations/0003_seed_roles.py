"""The roles Kartoteka ships with and their matrix (see accounts/roles.py)."""

from django.db import migrations


def seed(apps, schema_editor):
    from kartoteka.accounts.roles import seed_roles

    seed_roles(apps.get_model("accounts", "Role"), apps.get_model("accounts", "Grant"),
               apps.get_model("accounts", "FieldRule"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_roles_teams_grants")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
