"""Background jobs of the planner: thin and idempotent."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from kartoteka.planner import reminders


@task()
def deliver_reminders() -> int:
    """Deliver every reminder that is due; safe to run in several workers at once."""
    return reminders.deliver_due()


@task()
def create_rule_tasks() -> int:
    """Tasks for clients out of automatic contact rules (idempotent: one open task per
    client and rule)."""
    from kartoteka.planner import rules

    return rules.create_rule_tasks()


@task()
def prune_realtime() -> int:
    from kartoteka.core import realtime

    return realtime.prune()


def enqueue_reminders_if_due() -> bool:
    """The fast clock's tick (`kartoteka cron --loop`, every few seconds): enqueue a delivery
    when reminders are due and no delivery is already waiting for a worker."""
    if not reminders.due_exist():
        return False
    if "django_tasks_db" in settings.TASKS["default"]["BACKEND"]:
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=deliver_reminders.module_path, status=TaskResultStatus.READY
        )
        if waiting.exists():
            return False
    deliver_reminders.enqueue()
    return True
