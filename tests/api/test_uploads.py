"""`POST /v1/uploads` and `GET /v1/uploads/{id}`: files of any size, in the background."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest

from battrace.services.ingest_file import batches
from battrace.sim.build import at, event, produced
from tests import kit
from tests.api.conftest import Api, make_api


def _jsonl(events: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(e) for e in events) + b"\n"


def _lifecycles(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Maker A's and automaker A's events for `n` packs."""
    maker, auto = [], []
    for i in range(n):
        pack = kit.code(100 + i)
        maker += [
            produced(f"p{i}", at("2025-01-03", 9), kit.MAKER, pack),
            event("shipped", f"s{i}", at("2025-01-03", 10), kit.MAKER, battery=pack,
                  to=kit.AUTOMAKER),
        ]  # fmt: skip
        auto.append(event("received", f"r{i}", at("2025-01-03", 11), kit.AUTOMAKER, battery=pack))
    return maker, auto


def _finish(api: Api, upload_id: str, who: str, **params: Any) -> dict[str, Any]:
    assert api.app.state.battrace.wait_for_uploads(60)
    r = api.get(f"/v1/uploads/{upload_id}", who, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_multipart_upload_is_ingested_in_the_background_with_results_per_line(
    api: Api,
) -> None:
    maker, _ = _lifecycles(60)
    data = _jsonl(maker[:50]) + b"\n" + b"{not json\n" + _jsonl(maker[50:])
    r = api.post("/v1/uploads", kit.MAKER, files={"file": ("events.jsonl", data)})
    assert r.status_code == 202, r.text
    created = r.json()
    assert r.headers["location"] == created["location"] == f"/v1/uploads/{created['id']}"
    assert created["bytes_total"] == len(data)
    done = _finish(api, created["id"], kit.MAKER, status="rejected")
    assert done["status"] == "done"
    assert (done["accepted"], done["rejected"], done["duplicates"]) == (120, 1, 0)
    assert done["lines"] == 121
    assert done["bytes_read"] == done["bytes_total"]
    assert done["progress"] == 1.0
    assert done["filename"] == "events.jsonl"
    [bad] = done["results"]
    assert bad["line"] == 52  # the blank line 51 is skipped, its number kept
    assert bad["reasons"][0]["field"] == "(json)"
    assert api.store.battery(kit.code(100)) is not None


def test_an_upload_line_too_long_to_read_is_rejected_as_such(api: Api) -> None:
    from battrace.services.batch import MAX_LINE

    maker, _ = _lifecycles(3)
    data = _jsonl(maker[:2]) + b"x" * (2 * MAX_LINE) + b"\n" + _jsonl(maker[2:])
    r = api.post("/v1/uploads", kit.MAKER, files={"file": ("long.jsonl", data)})
    assert r.status_code == 202, r.text
    done = _finish(api, r.json()["id"], kit.MAKER, status="rejected")
    assert (done["accepted"], done["rejected"]) == (6, 1)
    [bad] = done["results"]
    assert bad["line"] == 3
    assert bad["reasons"] == [
        {
            "field": "(line)",
            "rule": None,
            "message": f"line longer than {MAX_LINE:,} bytes: not read",
        }
    ]


def test_a_raw_ndjson_body_works_too_and_results_are_paginated(api: Api) -> None:
    maker, _ = _lifecycles(30)
    r = api.post(
        "/v1/uploads?filename=raw.jsonl",
        kit.MAKER,
        content=_jsonl(maker),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 202
    upload_id = r.json()["id"]
    page = _finish(api, upload_id, kit.MAKER, limit=25, offset=0)
    assert page["results_total"] == 60
    assert [x["line"] for x in page["results"]] == list(range(1, 26))
    assert page["next_offset"] == 25
    last = _finish(api, upload_id, kit.MAKER, limit=25, offset=50)
    assert last["next_offset"] is None
    assert all(x["status"] == "accepted" and x["leaf_index"] is not None for x in last["results"])


def test_lines_reported_for_another_enterprise_are_rejected(api: Api) -> None:
    maker, auto = _lifecycles(5)
    api.ok(*maker)
    data = _jsonl([*auto[:2], maker[0] | {"id": "forged"}, *auto[2:]])
    r = api.post("/v1/uploads", kit.AUTOMAKER, files={"file": ("x.jsonl", data)})
    done = _finish(api, r.json()["id"], kit.AUTOMAKER, status="rejected")
    assert (done["accepted"], done["rejected"]) == (5, 1)
    assert done["results"][0]["reasons"][0]["field"] == "reporter"
    assert done["results"][0]["line"] == 3


def test_an_upload_is_visible_to_its_sender_and_regulators_only(api: Api) -> None:
    r = api.post("/v1/uploads", kit.MAKER, files={"file": ("x.jsonl", b"")})
    upload_id = r.json()["id"]
    assert _finish(api, upload_id, kit.MAKER)["status"] == "done"
    assert api.get(f"/v1/uploads/{upload_id}", kit.REGULATOR).status_code == 200
    assert api.get(f"/v1/uploads/{upload_id}", kit.MAKER2).status_code == 404
    assert api.get(f"/v1/uploads/{upload_id}").status_code == 401


@pytest.mark.parametrize(
    ("kwargs", "status", "kind"),
    [
        ({"content": b"{}", "headers": {"Content-Type": "application/json"}}, 415,
         "unsupported-media-type"),
        ({"files": {"other": ("x.jsonl", b"{}")}}, 422, "invalid-input"),
        ({"content": b"--x\r\nbroken", "headers": {"Content-Type": "multipart/form-data"}},
         422, "invalid-input"),
    ],
)  # fmt: skip
def test_bad_uploads_are_4xx_problems(
    api: Api, kwargs: dict[str, Any], status: int, kind: str
) -> None:
    r = api.post("/v1/uploads", kit.MAKER, **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["type"] == f"/problems/{kind}"
    assert list((api.key_dir.parent / "spool").iterdir()) == []


def test_an_upload_over_the_configured_limit_is_refused(store: Any, tmp_path: Path) -> None:
    for api in make_api(store, tmp_path, max_upload_bytes=100):
        r = api.post("/v1/uploads", kit.MAKER, files={"file": ("x.jsonl", b"x" * 101)})
        assert r.status_code == 413
        assert list((tmp_path / "spool").iterdir()) == []


def test_an_over_long_line_is_rejected_unread_and_the_rest_goes_on() -> None:
    data = b'{"a": 1}\n' + b"x" * 50 + b"\n\n" + b'{"b": 2}'
    [(chunk, read)] = list(batches(io.BytesIO(data), 10, max_line=20))
    assert chunk == [(1, b'{"a": 1}\n'), (2, None), (4, b'{"b": 2}')]
    assert read == len(data)


def test_uploads_left_unfinished_by_a_stopped_server_are_marked_failed(
    store: Any, tmp_path: Path
) -> None:
    from battrace.services import uploads

    for api in make_api(store, tmp_path):
        upload_id = uploads.create(
            store, enterprise=kit.MAKER, key_id="k", filename=None, size=1, now=api.clock[0]
        )
        api.app.state.battrace.startup()
        view = api.get(f"/v1/uploads/{upload_id}", kit.REGULATOR).json()
        assert view["status"] == "failed"
        assert "interrupted" in view["error"]


def test_a_key_revoked_while_its_upload_runs_stops_the_rest(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker ingested a queued upload as the identity captured when it was sent: 20,000
    lines went in after their key was revoked."""
    from battrace.services import apikeys
    from tests.api.conftest import NOW

    for api in make_api(store, tmp_path, upload_batch=10):
        st = api.app.state.battrace
        real = st.ingest_lines
        batches_seen: list[int] = []

        def revoke_after_the_first(
            principal: Any,
            lines: list[bytes | None],
            real: Any = real,
            api: Api = api,
            batches_seen: list[int] = batches_seen,
        ) -> Any:
            out = real(principal, lines)
            batches_seen.append(len(lines))
            if len(batches_seen) == 1:
                apikeys.revoke(api.store, api.keys[kit.MAKER].split("_")[1], now=NOW)
            return out

        monkeypatch.setattr(st, "ingest_lines", revoke_after_the_first)
        maker, _ = _lifecycles(30)
        r = api.post("/v1/uploads", kit.MAKER, files={"file": ("e.jsonl", _jsonl(maker))})
        assert r.status_code == 202, r.text
        done = _finish(api, r.json()["id"], kit.REGULATOR)
        assert batches_seen == [10]
        assert (done["status"], done["accepted"]) == ("failed", 10)
        assert "revoked" in done["error"]


def test_past_the_first_refusals_an_upload_counts_them_without_keeping_each(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 300 KB file of `{}` lines stored 93 MB of per-line reasons."""
    from battrace.services import uploads

    monkeypatch.setattr(uploads, "MAX_KEPT_REFUSALS", 5)
    maker, _ = _lifecycles(3)
    data = b"{}\n" * 8 + _jsonl(maker) + b"{}\n" * 4
    r = api.post("/v1/uploads", kit.MAKER, files={"file": ("e.jsonl", data)})
    done = _finish(api, r.json()["id"], kit.MAKER)
    assert (done["accepted"], done["rejected"]) == (6, 12)
    assert done["results_total"] == 6 + 5
    assert [x["line"] for x in done["results"] if x["status"] == "rejected"] == [1, 2, 3, 4, 5]
    assert "first 5" in done["results_kept"]
    r = api.post("/v1/uploads", kit.MAKER, files={"file": ("f.jsonl", b"{}\n")})
    assert _finish(api, r.json()["id"], kit.MAKER)["results_kept"] == "all"


def _multipart_messages(file_bytes: int, chunk: int = 64 * 1024) -> list[dict[str, Any]]:
    head = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n'
        b"Content-Type: application/x-ndjson\r\n\r\n"
    )
    parts = [head, *(b"x" * chunk for _ in range(file_bytes // chunk)), b"\r\n--b--\r\n"]
    return [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
        for i, p in enumerate(parts)
    ]


@pytest.mark.parametrize("declared", [False, True])
def test_a_multipart_body_over_the_limit_is_refused_before_it_is_all_read(
    tmp_path: Path, declared: bool
) -> None:
    """Starlette parsed the whole multipart body (spooling the file to the temporary
    directory) before the upload limit applied: 200 MB went to disk against a 1 MiB limit.
    The body is now counted as it arrives, and a declared Content-Length is checked first."""
    import anyio
    from starlette.requests import Request

    from battrace.api.problems import ApiProblem
    from battrace.api.routes import uploads as route

    limit = 1 << 20
    messages = _multipart_messages(16 * limit)
    total = sum(len(m["body"]) for m in messages)
    taken = 0

    async def receive() -> dict[str, Any]:
        nonlocal taken
        taken += 1
        return messages[taken - 1]

    headers = [(b"content-type", b"multipart/form-data; boundary=b")]
    if declared:
        headers.append((b"content-length", str(total).encode()))
    scope = {"type": "http", "method": "POST", "path": "/v1/uploads", "headers": headers,
             "query_string": b""}  # fmt: skip

    async def copy() -> None:
        with (tmp_path / "out").open("wb") as out:
            await route._copy_multipart(Request(scope, receive), out, limit)

    with pytest.raises(ApiProblem) as refused:
        anyio.run(copy)
    assert refused.value.kind == "payload-too-large"
    assert "1,048,576 bytes" in str(refused.value)
    read = sum(len(m["body"]) for m in messages[:taken])
    assert read <= limit + route.MULTIPART_OVERHEAD + 64 * 1024
    if declared:
        assert taken == 0
    # under the limit the same body goes through
    small = _multipart_messages(limit // 2)
    messages[:] = small
    taken = 0
    scope["headers"] = headers[:1]
    anyio.run(copy)
    assert (tmp_path / "out").stat().st_size == (limit // 2) // (64 * 1024) * 64 * 1024
