"""The first pipeline (transactional selling) and the loss reasons, so that sales work at once.

Names are stored in the installation's language (LANGUAGE_CODE): management commands run with
translations off, so the seed turns the installation's language on itself.
"""

from django.conf import settings
from django.db import migrations
from django.utils import translation


def seed(apps, schema_editor):
    with translation.override(settings.LANGUAGE_CODE):
        _seed(apps)


def _seed(apps):
    from kartoteka.sales.blueprints import BLUEPRINTS, LOSS_REASONS

    pipeline_model = apps.get_model("sales", "Pipeline")
    stage_model = apps.get_model("sales", "Stage")
    reason_model = apps.get_model("sales", "LossReason")
    if pipeline_model.objects.exists():
        return
    plan = BLUEPRINTS["transactional"]
    pipeline = pipeline_model.objects.create(name=str(plan["name"]), position=0)
    stage_model.objects.bulk_create(
        stage_model(
            pipeline=pipeline,
            name=str(title),
            position=i,
            probability=probability,
            kind=kind,
            required_fields=required,
        )
        for i, (title, probability, kind, required) in enumerate(plan["stages"])
    )
    reason_model.objects.bulk_create(
        [reason_model(name=str(r), position=i) for i, r in enumerate(LOSS_REASONS)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_deals")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
