"""Test helpers shared by every app's tests."""

from django.test import Client


def assert_access(url: str, *, allowed=(), denied=(), method: str = "get", data=None) -> None:
    """Check a page against the access rule in one line.

    Every user in `allowed` gets a 200; every user in `denied` gets a 404 (never a 403:
    a record's existence is not leaked); an anonymous visitor is sent to the login page.
    """
    anonymous = getattr(Client(), method)(url, data=data)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], (
        f"{url}: anonymous visitor got {anonymous.status_code}"
    )
    for user in allowed:
        response = getattr(_client_for(user), method)(url, data=data)
        assert response.status_code == 200, f"{url}: {user.username} should see it, got {response.status_code}"
    for user in denied:
        response = getattr(_client_for(user), method)(url, data=data)
        assert response.status_code == 404, f"{url}: {user.username} should get 404, got {response.status_code}"


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
