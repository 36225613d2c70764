"""Many concurrent clients, 2,000 interviews, random resends, conflicts and dropped connections:
exactly 2,000 stored, every conflict kept, none lost, none doubled (issue 7).

Runs against a real database with real commits (not the rolled-back test transaction), from
threads that each have their own session and connection. PostgreSQL only: SQLite serialises
every writer on one file lock, so it cannot show what the unique key does under a race.
CI's PostgreSQL pass runs it (``TEST_DATABASE_URL=postgresql+psycopg://…``).
"""

from __future__ import annotations

import queue
import random
import threading
import time

import pytest
import sqlalchemy as sa
from field_builders import committed_field_world, payload

from surveyapp.extensions import db as _db
from surveyapp.models import Interview, InterviewConflict, InterviewVersion
from surveyapp.services import interviews as service

N_INTERVIEWS = 2000
N_CLIENTS = 12


@pytest.fixture
def committed_world(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL's concurrent writers (CI's PostgreSQL pass runs it); "
                    "SQLite takes one writer at a time")
    yield from committed_field_world(app, n_cases=1)


def test_two_thousand_interviews_from_concurrent_clients(app, committed_world):
    world, raw = committed_world
    rng = random.Random(20240902)
    originals = [payload(world, assignment_index=None,
                         answers={"visited": "no", "age": 18 + i % 80}) for i in
                 range(N_INTERVIEWS)]
    conflicting: dict[str, dict] = {}
    tasks: list[dict] = []
    for data in originals:
        tasks.append(data)
        if rng.random() < 0.3:  # a device resending what it already sent
            tasks.append(dict(data, paradata={"resend": True}))
        if rng.random() < 0.1:  # the same UUID with different content
            other = dict(data, answers={"visited": "no", "age": 99})
            conflicting[data["uuid"]] = other
            tasks.append(other)
    rng.shuffle(tasks)
    work: queue.Queue = queue.Queue()
    for task in tasks:
        work.put(task)
    acknowledged: dict[tuple[str, str], int] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def client_loop(seed: int) -> None:
        local = random.Random(seed)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {raw}"}
        while True:
            try:
                data = work.get_nowait()
            except queue.Empty:
                return
            for _attempt in range(20):
                if local.random() < 0.05:
                    continue  # the connection dropped before the request left the device
                response = client.post("/api/v1/interviews", json=data, headers=headers)
                status = response.status_code
                response.close()
                if local.random() < 0.05:
                    continue  # the answer was lost on the way back: the device sends again
                if status in (200, 201, 409):
                    with lock:
                        acknowledged[(data["uuid"], service.receipt_of(data))] = status
                    break
                with lock:
                    errors.append(f"{data['uuid']}: {status} {response.get_data(as_text=True)}")
                break

    started = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(N_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert errors == []
    print(f"{len(tasks)} sends from {N_CLIENTS} clients in {elapsed:.1f} s")

    with app.app_context():
        rows = _db.session.execute(
            sa.select(Interview.uuid, Interview.id).where(Interview.campaign_id ==
                                                          world.walk_in_campaign)).all()
        ids = {u: i for u, i in rows}
        versions = _db.session.execute(
            sa.select(InterviewVersion.interview_id, InterviewVersion.content_sha256)
            .where(InterviewVersion.interview_id.in_(ids.values()))).all()
        conflicts = _db.session.execute(
            sa.select(InterviewConflict.interview_id, InterviewConflict.content_sha256)
            .where(InterviewConflict.interview_id.in_(ids.values()))).all()
        _db.session.remove()
    # Exactly 2,000 interviews, one version each: none lost, none doubled.
    assert len(rows) == N_INTERVIEWS
    assert set(ids) == {d["uuid"] for d in originals}
    assert len(versions) == N_INTERVIEWS
    # Every payload the devices sent is on file: stored as the version or kept as a conflict.
    on_file = {(iid, h) for iid, h in versions} | {(iid, h) for iid, h in conflicts}
    for data in originals + list(conflicting.values()):
        assert (ids[data["uuid"]], service.receipt_of(data)) in on_file
    # Every conflict kept exactly once, and only where a different payload was sent.
    assert len(conflicts) == len(conflicting)
    assert {iid for iid, _ in conflicts} == {ids[u] for u in conflicting}
    # Every send was finally acknowledged (receipt or conflict id) — the device may delete.
    assert len(acknowledged) == N_INTERVIEWS + len(conflicting)
