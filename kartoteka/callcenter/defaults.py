"""The call results and break reasons a new installation starts with (an administrator edits
them at /calls/settings/)."""

from django.utils.translation import gettext_lazy as _

RESULTS = [
    _("Question answered"),
    _("Order placed"),
    _("Complaint taken"),
    _("Call back later"),
    _("Wrong number"),
    _("Not interested"),
]
BREAKS = [(_("Lunch"), 60), (_("Short break"), 15), (_("Training"), None), (_("Meeting"), None)]
