"""Concurrent saves and submits: nothing silently overwritten, submitted work never changes.

The threaded tests need a database that lets two connections wait for each other's row
locks; they run on PostgreSQL (CI) and are skipped on SQLite, whose in-memory test
database shares one lock for every table. The sequential versions run everywhere.
"""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.db import connection
from django.urls import reverse

from classroom.models import Submission, SubmissionRevision
from tests.factories import AssignmentFactory, StudentFactory

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks between threads need PostgreSQL; SQLite's shared in-memory test database would just fail to lock",
)


@pytest.fixture
def assignment(school_class):
    return AssignmentFactory(school_class=school_class)


def _in_threads(*targets):
    """Run the callables at the same moment, each on its own database connection; return their results."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def run(index, target):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as error:  # noqa: BLE001 - reported to the test as the result
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db
def test_two_saves_from_the_same_base_one_wins_one_conflicts(client, cast, assignment):
    client.force_login(cast["student"])
    url = reverse("classroom:autosave", args=[assignment.pk])
    first = client.post(url, {"text": "From the laptop", "base_revision": 0})
    second = client.post(url, {"text": "From the phone", "base_revision": 0})
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert second.json()["revision"] == first.json()["revision"] == 1
    assert Submission.objects.get().text == "From the laptop"


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_the_same_base_exactly_one_wins(cast, assignment):
    submission = Submission.start(assignment, cast["student"])

    def saver(text):
        def save():
            Submission.objects.get(pk=submission.pk).save_draft(text, base_revision=0)
            return "saved"

        return save

    for _ in range(5):
        results = _in_threads(saver("Tab one"), saver("Tab two"))
        winners = [r for r in results if r == "saved"]
        conflicts = [r for r in results if isinstance(r, Submission.Conflict)]
        assert len(winners) == 1 and len(conflicts) == 1, results
        assert conflicts[0].revision == 1
        current = Submission.objects.get(pk=submission.pk)
        assert current.text == conflicts[0].text
        Submission.objects.filter(pk=submission.pk).update(revision=0)  # the next round starts from 0 again


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_autosave_racing_submit_never_changes_or_reopens_submitted_work(cast, assignment, school_class):
    for round_number in range(6):
        student = StudentFactory()
        school_class.enrol(student)
        submission = Submission.start(assignment, student)
        submission.save_draft("Draft before submitting.", base_revision=0)
        late_text = f"A change typed while submitting, round {round_number}."

        def autosave(pk=submission.pk, text=late_text):
            Submission.objects.get(pk=pk).save_draft(text, base_revision=1)
            return "saved"

        def submit(pk=submission.pk, who=student):
            return Submission.objects.get(pk=pk).submit(by=who)

        saved, submitted = _in_threads(autosave, submit)
        final = Submission.objects.get(pk=submission.pk)
        assert final.state == Submission.State.SUBMITTED
        # Whichever came first, what was submitted is exactly what is stored and fingerprinted.
        assert final.text_sha256 == hashlib.sha256(final.text.encode()).hexdigest()
        snapshot = final.revisions.get(reason=SubmissionRevision.Reason.SUBMIT)
        assert snapshot.text == final.text
        if saved == "saved":
            assert final.text == late_text  # the save landed first, and was submitted
        else:
            assert isinstance(saved, Submission.Conflict) and not saved.editable
            assert final.text == "Draft before submitting."
        # A stale autosave afterwards is refused and the work stays submitted.
        with pytest.raises(Submission.Conflict):
            final.save_draft("Too late", base_revision=final.revision)
        assert Submission.objects.get(pk=submission.pk).state == Submission.State.SUBMITTED


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_double_submit_in_parallel_submits_once(cast, assignment):
    submission = Submission.start(assignment, cast["student"])
    submission.save_draft("Finished essay.", base_revision=0)

    def submit():
        return Submission.objects.get(pk=submission.pk).submit(by=cast["student"]).submitted_at

    first, second = _in_threads(submit, submit)
    assert first == second
    assert submission.revisions.filter(reason=SubmissionRevision.Reason.SUBMIT).count() == 1
