"""Deals keep their title case-folded for search (SQLite's LIKE folds ASCII only)."""

from django.db import migrations, models

BATCH = 2000


def fill(apps, schema_editor):
    deal_model = apps.get_model("sales", "Deal")
    last = 0
    while True:
        rows = list(deal_model.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        for row in rows:
            row.search_title = row.title.lower().replace("ё", "е")
        deal_model.objects.bulk_update(rows, ["search_title"])
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_first_pipeline")]

    operations = [
        migrations.AddField(
            model_name="deal",
            name="search_title",
            field=models.CharField(default="", editable=False, max_length=200),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
