"""The editor's pages and the script on the call card, as a browser's form posts reach them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kartoteka.callscripts import services
from kartoteka.callscripts.models import Answer, Option, Script, Step

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_editor_is_for_supervisors(client, olga, alice, helen, script):
    for user, status in ((olga.user, 403), (alice, 403), (helen, 200)):
        client.force_login(user)
        assert client.get(reverse("callscripts:list")).status_code == status
        assert client.get(reverse("callscripts:edit", args=[script.pk])).status_code == status
    client.force_login(olga.user)
    answer = client.post(reverse("callscripts:list"), {"name": "Mine"})
    assert answer.status_code == 403 and Script.objects.count() == 1


def test_the_graph_is_an_ordered_list_with_links(helen_client, script):
    page = helen_client.get(reverse("callscripts:edit", args=[script.pk])).content.decode()
    assert 'id="step-1"' in page and 'href="#step-2">→ step 2</a>' in page
    assert "suggested result: Sale" in page


def test_create_a_script_then_add_steps(helen_client):
    answer = helen_client.post(reverse("callscripts:list"), {"name": "Support", "direction": "in"})
    script = Script.objects.get(name="Support")
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "callscripts:edit", args=[script.pk]
    )
    url = reverse("callscripts:step_add", args=[script.pk])
    form = {"text": "Bye", "kind": "final", "version": script.version, **formset()}
    assert helen_client.post(url, form).status_code == 302
    end = Step.objects.get(script=script)
    form = {
        "text": "Which product?",
        "kind": "choice",
        "position": "0",
        "version": script.version + 1,
        **formset(("Phone", end.pk), ("Tablet", end.pk)),
    }
    assert helen_client.post(url, form).status_code == 302
    first = services.live_steps(script)[0]
    assert [o.label for o in first.options.all()] == ["Phone", "Tablet"]
    assert services.problems(script).errors == []


def formset(*rows, prefix="o"):
    data = {f"{prefix}-TOTAL_FORMS": "3", f"{prefix}-INITIAL_FORMS": "0"}
    for index, (label, target, *rest) in enumerate(rows):
        data[f"{prefix}-{index}-label"] = label
        data[f"{prefix}-{index}-next_step"] = str(target)
        if rest:
            data[f"{prefix}-{index}-id"] = str(rest[0])
    return data


def test_errors_name_the_field_and_change_nothing(helen_client, helen, script):
    steps = services.live_steps(script)
    url = reverse("callscripts:step", args=[script.pk, steps[0].pk])
    form = {
        "text": "",
        "kind": "choice",
        "version": script.version,
        **formset(("", steps[1].pk, steps[0].options.first().pk)),
    }
    answer = helen_client.post(url, form)
    assert answer.status_code == 422
    assert 'data-field="text"' in answer.content.decode()
    form["text"] = "Hi"
    answer = helen_client.post(url, form)  # the service names the option's row
    assert answer.status_code == 422 and 'data-field="label"' in answer.content.decode()
    form = {"text": "Hi", "kind": "choice", "version": script.version, **formset(("a", 999999))}
    answer = helen_client.post(url, form)
    assert answer.status_code == 422 and 'data-field="next_step"' in answer.content.decode()
    assert Option.objects.filter(step=steps[0]).count() == 2


def test_a_stale_edit_is_detected(helen_client, script):
    url = reverse("callscripts:edit", args=[script.pk])
    answer = helen_client.post(url, {"name": "New", "version": script.version - 1})
    assert answer.status_code == 409 and Script.objects.get(pk=script.pk).name == "Sales"


def test_a_referenced_step_cannot_be_deleted_and_the_script_goes_to_the_trash(helen_client, script):
    steps = services.live_steps(script)
    url = reverse("callscripts:step_delete", args=[script.pk, steps[1].pk])
    answer = helen_client.post(url, {"version": script.version}, follow=True)
    assert "Steps 1 lead to this step" in answer.content.decode()
    helen_client.post(reverse("callscripts:trash", args=[script.pk]))
    assert not Script.objects.exists()
    page = helen_client.get(reverse("callscripts:list")).content.decode()
    assert 'id="script-trash"' in page
    helen_client.post(reverse("callscripts:restore", args=[script.pk]))
    assert Script.objects.filter(pk=script.pk).exists()


# --- on the call card --------------------------------------------------------------------------


def test_the_operator_walks_the_script_on_the_card(client, olga, script, call):
    client.force_login(olga.user)
    card = client.get(reverse("callcenter:card", args=[call.pk])).content.decode()
    assert 'id="call-script"' in card and "Hello Ivan! Is it a good time?" in card
    first = services.live_steps(script)[0]
    answer = client.post(
        reverse("callscripts:answer", args=[call.pk]),
        {"script": script.pk, "step": first.pk, "option": first.options.first().pk},
        **HTMX,
    )
    assert answer.status_code == 200 and "How many boxes?" in answer.content.decode()
    answer = client.post(
        reverse("callscripts:answer", args=[call.pk]),
        {"script": script.pk, "step": services.live_steps(script)[1].pk, "value": "lots"},
        **HTMX,
    )
    assert answer.status_code == 422 and "Enter a number." in answer.content.decode()
    card = client.get(reverse("callcenter:card", args=[call.pk])).content.decode()
    assert 'id="script-path"' in card and "How many boxes?" in card  # resumed after a reload
    answer = client.post(reverse("callscripts:back", args=[call.pk]), **HTMX)
    assert "Hello Ivan! Is it a good time?" in answer.content.decode()


def test_answers_are_shown_escaped(client, olga, helen, call):
    made = services.create_script(helen, services.ScriptData(name="Note"))
    end = services.save_step(helen, made, None, None, services.StepData(text="Bye", kind="final"))
    ask = services.save_step(
        helen,
        made,
        None,
        None,
        services.StepData(
            text="<b>Why</b> {first_name}?", kind="text", next_step_id=end.pk, position=0
        ),
    )
    made.refresh_from_db()
    services.update_script(
        helen, made, made.version, services.ScriptData(name="Note", is_active=True)
    )
    client.force_login(olga.user)
    hostile = '"><img src=x onerror=alert(1)>'
    answer = client.post(
        reverse("callscripts:answer", args=[call.pk]),
        {"script": made.pk, "step": ask.pk, "value": hostile},
        **HTMX,
    )
    page = answer.content.decode()
    assert hostile not in page and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;Why&lt;/b&gt; Ivan?" in page


def test_others_read_the_path_but_cannot_answer(client, olga, oleg, analyst, script, call):
    first = services.live_steps(script)[0]
    from kartoteka.callscripts import runner

    runner.answer(olga.user, call, script.pk, first.pk, first.options.first().pk)
    client.force_login(analyst)
    card = client.get(reverse("callcenter:card", args=[call.pk])).content.decode()
    assert 'id="script-path"' in card and 'id="script-answer"' not in card
    step = services.live_steps(script)[1].pk
    for user in (analyst, oleg.user):
        client.force_login(user)
        answer = client.post(
            reverse("callscripts:answer", args=[call.pk]), {"step": step, "value": "1"}
        )
        assert answer.status_code == 404
        assert client.post(reverse("callscripts:back", args=[call.pk])).status_code == 404
    client.force_login(oleg.user)
    assert client.get(reverse("callscripts:run", args=[call.pk])).status_code == 404
    assert Answer.objects.count() == 1


def test_finishing_reloads_the_card_with_the_suggested_result(client, olga, script, call):
    client.force_login(olga.user)
    steps = services.live_steps(script)
    url = reverse("callscripts:answer", args=[call.pk])
    client.post(
        url,
        {"script": script.pk, "step": steps[0].pk, "option": steps[0].options.last().pk},
        **HTMX,
    )
    answer = client.post(url, {"script": script.pk, "step": steps[3].pk}, **HTMX)
    assert answer["HX-Refresh"] == "true"
    card = client.get(reverse("callcenter:card", args=[call.pk])).content.decode()
    assert 'id="script-finished"' in card and "selected>Sale</option>" in card


def test_the_card_reads_the_path_in_constant_queries(client, olga, script, call):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kartoteka.callscripts import runner

    client.force_login(olga.user)
    url = reverse("callcenter:card", args=[call.pk])
    first = services.live_steps(script)[0]
    runner.answer(olga.user, call, script.pk, first.pk, first.options.first().pk)
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    runner.answer(olga.user, call, script.pk, services.live_steps(script)[1].pk, None, "5")
    runner.answer(olga.user, call, script.pk, services.live_steps(script)[2].pk, None, "yes")
    with CaptureQueriesContext(connection) as long:
        assert "Thank you!" in client.get(url).content.decode()
    assert len(long) == len(short)
