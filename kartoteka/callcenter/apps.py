from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallcenterConfig(AppConfig):
    name = "kartoteka.callcenter"
    verbose_name = _("Contact centre")

    def ready(self) -> None:
        # A call-back task done by hand counts as the call back in the callbacks report.
        from kartoteka.callcenter.queries import rung
        from kartoteka.core import permissions
        from kartoteka.planner import events

        events.subscribe(_task_done)
        # An operator sees the call ringing their extension (the screen pop) even when the
        # call is recorded as another operator's (ring-all).
        permissions.register_stand_in("call", rung)


def _task_done(event: object) -> None:
    from django.utils import timezone

    from kartoteka.callcenter import callbacks
    from kartoteka.planner.events import TaskDone

    if isinstance(event, TaskDone):
        callbacks.task_done(event.task_id, timezone.now())
