"""Logging in: throttling after failures, two-factor codes, roles that require them."""

from __future__ import annotations

from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kartoteka.accounts.models import Role
from tests.conftest import PASSWORD


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def unthrottle(user) -> None:
    """django-otp slows down guessing after a wrong code; the tests do not wait."""
    TOTPDevice.objects.filter(user=user).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


def test_login_and_logout(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("clients:list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("clients:list")).status_code == 302


def test_throttled_after_five_failures(client, alice):
    for _ in range(5):
        client.post(reverse("login"), {"username": "alice", "password": "nope"})
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    assert client.get(reverse("clients:list")).status_code == 302


def test_open_redirect_after_login_is_refused(client, alice):
    response = client.post(
        reverse("login") + "?next=//evil.example/x",
        {"username": "alice", "password": PASSWORD, "next": "//evil.example/x"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_two_factor_setup_then_required_at_login(client, alice):
    client.force_login(alice)
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200 and "<svg" in page.text
    device = TOTPDevice.objects.get(user=alice)
    assert client.post(reverse("two_factor_setup"), {"code": "000000"}).status_code == 422
    unthrottle(alice)
    assert client.post(reverse("two_factor_setup"), {"code": code(device)}).status_code == 302
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    response = client.get(reverse("clients:list"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("two_factor_verify")
    )
    assert client.post(reverse("two_factor_verify"), {"code": "123"}).status_code == 422
    unthrottle(alice)
    TOTPDevice.objects.filter(user=alice).update(last_t=-1)
    device.refresh_from_db()
    assert client.post(reverse("two_factor_verify"), {"code": code(device)}).status_code == 302
    assert client.get(reverse("clients:list")).status_code == 200


def test_role_that_requires_two_factor_sends_users_to_set_it_up(client, alice):
    Role.objects.filter(code="manager").update(require_2fa=True)
    client.force_login(alice)
    response = client.get(reverse("clients:list"))
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_setup")
    assert client.post(reverse("two_factor_disable")).status_code == 302


def test_change_own_password(alice_client, alice):
    url = reverse("password_change")
    weak = alice_client.post(
        url, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    )
    assert weak.status_code == 422
    wrong = alice_client.post(
        url,
        {
            "old_password": "nope",
            "new_password1": "x-long-new-pass-9",
            "new_password2": "x-long-new-pass-9",
        },
    )
    assert wrong.status_code == 422
    ok = alice_client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "x-long-new-pass-9",
            "new_password2": "x-long-new-pass-9",
        },
    )
    assert ok.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("x-long-new-pass-9")
    assert alice_client.get(reverse("clients:list")).status_code == 200  # still signed in


def test_a_password_alone_cannot_turn_off_or_replace_the_second_factor(client, alice):
    client.force_login(alice)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=alice)
    client.post(reverse("two_factor_setup"), {"code": code(device)})
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})  # no code given
    assert client.post(reverse("two_factor_disable")).status_code == 302
    assert client.get(reverse("two_factor_setup")).status_code == 302
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).count() == 1
    assert client.get(reverse("clients:list"))["Location"].startswith(reverse("two_factor_verify"))
