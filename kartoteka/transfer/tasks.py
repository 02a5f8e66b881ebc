"""Background jobs for imports: thin, they call the importer."""

from __future__ import annotations

from django_tasks import task

from kartoteka.transfer import importer
from kartoteka.transfer.models import ImportJob


@task()
def run_import(job_id: int) -> str:
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.status != ImportJob.Status.QUEUED:
        return str(job.status)  # cancelled while it waited
    return str(importer.run_job(job).status)
