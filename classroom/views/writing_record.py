"""The writing-process record of one essay (classroom/writing_process.py): the summary, the
timeline and a replay of the essay growing; and a version to print for an authenticity query.

Read by the pupil who wrote it, the class's teachers and heads (permissions); the writer is
named as marking pages name them, so anonymous marking holds here too.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from classroom import permissions, privacy
from classroom.models import Submission
from classroom.types import AuthedRequest
from classroom.writing_process import LARGE_INSERTION, SESSION_GAP, replay_frames, summary_for


def _context(request: AuthedRequest, submission: Submission) -> dict:
    assignment = submission.assignment
    own = submission.student_id == request.user.pk
    if own:
        back = (reverse("classroom:write", args=[assignment.pk]), "Back to your essay")
    elif submission.is_markable or assignment.names_hidden:
        back = (reverse("classroom:mark_submission", args=[submission.pk]), "Back to marking")
    else:
        back = (reverse("classroom:submission_detail", args=[submission.pk]), "Back to the essay")
    return {
        "submission": submission,
        "assignment": assignment,
        "writer": permissions.writer_label_for(request.user, submission),
        "own": own,
        "summary": summary_for(submission),
        "session_gap_minutes": int(SESSION_GAP.total_seconds() // 60),
        "large_insertion": LARGE_INSERTION,
        "back": back,
        "nav": "work" if request.user.is_student else "classes",
    }


@login_required
def writing_record(request: AuthedRequest, pk: int) -> HttpResponse:
    """The record: summary, timeline and the replay (its frames as JSON for writing_record.js)."""
    submission = permissions.submission_for_process_record(request.user, pk)
    context = _context(request, submission)
    privacy.log_access(request.user, submission.student, "Writing record", submission)
    revisions = list(submission.revisions.order_by("created_at", "pk"))
    context["frames"] = [frame.as_json() for frame in replay_frames(submission, revisions)]
    return render(request, "classroom/writing_record/record.html", context)


@login_required
def writing_record_print(request: AuthedRequest, pk: int) -> HttpResponse:
    """The record to print: summary, timeline and the list of saved versions (without their text)."""
    submission = permissions.submission_for_process_record(request.user, pk)
    context = _context(request, submission)
    privacy.log_access(request.user, submission.student, "Writing record (to print)", submission)
    context["revisions"] = list(submission.revisions.order_by("created_at", "pk").defer("text"))
    return render(request, "classroom/writing_record/print.html", context)
