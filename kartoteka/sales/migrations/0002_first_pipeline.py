"""The first pipeline (transactional selling) and the loss reasons, so that sales work at once.

Names are stored in the installation's language (LANGUAGE_CODE) at migrate time.
"""

from django.db import migrations


def seed(apps, schema_editor):
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
