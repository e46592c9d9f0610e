"""Every route refuses a body over the limit with 413 and a sentence, before reading it all."""

from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder

from donate.config import MAX_REQUEST_BYTES
from tests.factories import make_goal

TOO_BIG = MAX_REQUEST_BYTES + 1


class CountingBody(io.RawIOBase):
    """A body of `size` bytes that remembers how much of it the app read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        n = min(len(buffer), self.left)
        buffer[:n] = b"a" * n
        self.left -= n
        self.read_bytes += n
        return n


@pytest.fixture
def routes(db_session) -> list[str]:
    goal = make_goal()
    return ["/stripe/webhook", "/admin/sign-in", f"/give/{goal.slug}", f"/w/{goal.slug}"]


@pytest.mark.parametrize("as_json", [False, True])
def test_a_body_over_the_limit_gets_413_with_a_sentence_on_every_route(app, routes, as_json):
    client = app.test_client()
    headers = {"Origin": "http://127.0.0.1:5000"}
    if as_json:
        headers["Accept"] = "application/json"
    for path in routes:
        method = client.get if path.startswith("/w/") else client.post
        response = method(
            path,
            data=b"a" * TOO_BIG,
            headers=headers,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 413, path
        if as_json:
            assert response.get_json()["message"] == (
                "This request is too large: at most 1 MB is accepted."
            ), path
        else:
            assert "This request is too large: at most 1 MB is accepted." in response.text


def _post_chunked(app, path: str, body: CountingBody) -> int:
    """POST a body without a length, as a chunked request reaches the app from a server."""
    environ = EnvironBuilder(
        path=path,
        method="POST",
        headers={"Origin": "http://127.0.0.1:5000"},
        content_type="application/x-www-form-urlencoded",
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update(
        {"wsgi.input": body, "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}
    )
    status = []
    for _ in app(environ, lambda code, headers, *_: status.append(code)):
        pass
    return int(status[0].split()[0])


def test_a_chunked_body_is_cut_off_at_the_limit_not_read_to_the_end(app, routes):
    for path in routes[:3]:
        body = CountingBody(50 * MAX_REQUEST_BYTES)
        assert _post_chunked(app, path, body) == 413, path
        assert body.read_bytes <= 2 * MAX_REQUEST_BYTES, path


def test_a_body_under_the_limit_is_read_as_usual(app, routes):
    client = app.test_client()
    response = client.post("/stripe/webhook", data=b"{" + b" " * (MAX_REQUEST_BYTES - 10) + b"}")
    assert response.status_code == 400  # read in full, then refused for its missing signature
