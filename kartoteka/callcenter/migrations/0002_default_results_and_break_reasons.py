"""Call results and break reasons to start with, in the installation's language (management
commands run with translations off, so the seed turns the installation's language on)."""

from django.conf import settings
from django.db import migrations
from django.utils import translation


def seed(apps, schema_editor):
    from kartoteka.callcenter.defaults import BREAKS, RESULTS

    disposition = apps.get_model("callcenter", "Disposition")
    reason = apps.get_model("callcenter", "BreakReason")
    with translation.override(settings.LANGUAGE_CODE):
        disposition.objects.bulk_create(
            [disposition(name=str(name), position=i) for i, name in enumerate(RESULTS)],
            ignore_conflicts=True,
        )
        reason.objects.bulk_create(
            [reason(name=str(name), limit_minutes=limit) for name, limit in BREAKS],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("callcenter", "0001_calls_operators_statuses_event_ledger")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
