"""Preserve data as evidence past retention (PP-9126 C.4.c, C.5): triggered by hand, with the
request in the trigger form, as the administrator it names.

Who may: the form asks for no password; Airflow's own sign-in and roles (who may trigger this
DAG) are the gate. The core refuses the request when ``user`` is not an administrator in the
catalog, or the basis is not one of C.4.c (the form offers only those), and audits it either way.

A window fans out per UTC day: ``shares`` names one share per day (and one for the read ids, see
``pipelines/preservation/backfill.py``), and a mapped ``preserve`` places each day's hold, so a
long window is a backfill whose failed days are cleared and re-run alone. XCom carries only the
share names: each task reads the selection from the run's params. Triggering the same request
again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from pipelines.preservation.basis import LegalBasis

if TYPE_CHECKING:
    from pipelines.preservation.selection import Selection


def _text(title: str, description: str) -> Param:
    """A required string: no default, so the form will not submit without it."""
    return Param(type="string", minLength=1, title=title, description=description)


def _strings(title: str, description: str) -> Param:
    return Param([], type="array", items={"type": "string"}, title=title, description=description)


def _moment(title: str, description: str) -> Param:
    return Param(
        None, type=["null", "string"], format="date-time", title=title, description=description
    )


@dag(
    dag_id=Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["alpr", "preservation"],
    default_args={"retries": 1},
    params={
        "user": _text("Administrator", "The administrator making the request (a catalog user)."),
        "case": _text("Case number", "The case the evidence is for."),
        "basis": Param(
            type="string",
            enum=[b.value for b in LegalBasis],
            values_display={b.value: b.value.replace("_", " ").capitalize() for b in LegalBasis},
            title="Legal basis",
            description="PP-9126 C.4.c (C.R.S. 24-72-113): a misdemeanor alone is not a basis.",
        ),
        "reason": _text("Reason", "Why this data is evidence."),
        "requester": Param(
            "", type="string", title="Requester", description="Who asked for it; empty: the user."
        ),
        "plates": _strings("Plates", "Plates to preserve."),
        "cameras": _strings("Cameras", "Camera ids to preserve."),
        "read_ids": _strings("Read ids", "Read ids to preserve."),
        "window_from": _moment("From", "Window start, inclusive (ISO 8601, UTC)."),
        "window_to": _moment("To", "Window end, exclusive (ISO 8601, UTC)."),
    },
    doc_md=__doc__,
)
def alpr_preservation() -> None:
    @task
    def shares() -> list[str]:
        """The request's shares: its window's UTC days, its read ids (the selection checked)."""
        from pipelines.preservation.backfill import day_shares

        return list(day_shares(_selection()))

    @task(map_index_template="{{ task.op_kwargs['share'] }}")
    def preserve(share: str) -> dict[str, object]:
        """Place one share's hold and copy its evidence; returns the hold id and manifest."""
        from pipelines.config import load_settings
        from pipelines.preservation.backfill import day_shares, preserve_as

        context = get_current_context()
        params = context["params"]
        done = preserve_as(
            load_settings(),
            params["user"],
            params["case"],
            params["basis"],
            params["reason"],
            day_shares(_selection())[share],
            now=context["dag_run"].run_after,
            requester=params["requester"] or None,
        )
        return done.as_dict()

    preserve.expand(share=shares())


def _selection() -> Selection:
    """The selection the run's params name (times without a zone are UTC)."""
    from pipelines.preservation.selection import Selection

    params = get_current_context()["params"]

    def moment(value: str | None) -> datetime | None:
        if not value:
            return None
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    return Selection(
        plates=tuple(params["plates"]),
        cameras=tuple(params["cameras"]),
        start=moment(params["window_from"]),
        end=moment(params["window_to"]),
        read_ids=tuple(params["read_ids"]),
    )


alpr_preservation()
