"""Writing the search index: facet values named once, also when two writers bring a new one at once."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from registry.catalog.models import SearchFacetValue
from registry.catalog.service import facet_links
from registry.db import db


def test_a_new_facet_value_two_writers_bring_at_once_is_named_once(app):
    """The second writer's insert waits for the first one's transaction, then does nothing and reads its id."""
    first_inserted, second_started = threading.Event(), threading.Event()
    ids: dict[str, int] = {}
    failures: list[BaseException] = []

    def write(name: str, solution_id: int) -> None:
        try:
            with app.app_context():
                if name == "second":
                    assert first_inserted.wait(10)
                    second_started.set()
                [link] = facet_links([{"solution_id": solution_id, "facet": "municipality", "value": "울릉군"}])
                if name == "first":
                    first_inserted.set()
                    assert second_started.wait(10)
                    time.sleep(0.3)  # the other writer is now waiting on this transaction
                ids[name] = link["value_id"]
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # surfaced below: an assertion in a thread would pass silently
            failures.append(exc)

    writers = [threading.Thread(target=write, args=(name, n)) for n, name in enumerate(("first", "second"), 1)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(30)
    assert failures == []
    assert ids["first"] == ids["second"]
    named = db.session.scalar(select(func.count()).select_from(SearchFacetValue)
                              .where(SearchFacetValue.facet == "municipality", SearchFacetValue.value == "울릉군"))
    assert named == 1
