"""`backchannel watch`: a line per new warning while it runs (docs/protocol.md §37)."""

import uuid
from typing import Annotated

import typer
from rich.text import Text

from app.client.circles import Circles
from app.client.cli.context import circles_session, device_entries
from app.client.cli.ids import circle_arg
from app.client.cli.output import JsonFlag, author, emit, err, out, say, short_id, shown
from app.client.deletion import former_members
from app.client.entries import ReadEntry
from app.client.errors import ApiError
from app.client.live import Arrival, Gone, watch

app = typer.Typer()

GONE = {
    "not_a_member": "You are no longer a member of this circle.",
    "circle_not_found": "This circle no longer exists, or you are not in it.",
    "circle_deleted": "This circle was deleted by an owner.",
}


def _line(circle: Text, entry: ReadEntry, former: set[str]) -> Text:
    """One warning on one line: circle, who it is about, categories, author, id."""
    return say(
        "[",
        circle,
        "] ",
        (shown(entry.subject), "bold"),
        f" ({', '.join(entry.categories)}) by ",
        author(entry.author, former),
        f" · id {short_id(entry.entry_id)}",
    )


def _name(circles: Circles, cid: uuid.UUID, names: dict[uuid.UUID, Text]) -> Text:
    if cid not in names:
        try:
            name = circles.sync(cid).name
        except ApiError:  # gone already: its id is all there is to show
            name = None
        names[cid] = shown(name) if name else Text(short_id(cid))
    return names[cid]


@app.command(name="watch")
def watch_command(
    circle_id: Annotated[
        str | None,
        typer.Argument(help="The circle (name, id or 6+ characters of it); default: all."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print a line for each new warning as it arrives, until Ctrl-C. Only circle ids and
    numbers come over the live stream; each warning is fetched and verified as `read` does.
    Reconnects by itself; stops when you are removed, the circle is deleted or the session
    ends."""
    try:
        with circles_session(as_json) as circles:
            only = circle_arg(circles, circle_id) if circle_id else None
            entries = device_entries(circles)
            names: dict[uuid.UUID, Text] = {}
            if not as_json:
                what = Text("every circle") if only is None else _name(circles, only, names)
                err.print(say("Watching ", what, " for new warnings; Ctrl-C to stop."))

            def retry(delay: float, reason: str) -> None:
                if not as_json:
                    err.print(f"connection lost ({reason}); again in {delay:.0f} s", style="dim")

            for found in watch(entries, only, on_retry=retry):
                if isinstance(found, Gone):
                    emit(
                        as_json,
                        {"circle_id": str(found.circle_id), "gone": found.code},
                        say("[", _name(circles, found.circle_id, names), "] ", GONE[found.code]),
                    )
                    if only is not None:
                        raise ApiError(403, found.code, GONE[found.code])
                    continue
                _show(circles, found, names, as_json)
    except KeyboardInterrupt:
        if not as_json:
            err.print("Stopped.")


def _show(circles: Circles, arrival: Arrival, names: dict[uuid.UUID, Text], as_json: bool) -> None:
    if as_json:
        for entry in arrival.entries:
            emit(True, {"circle_id": str(arrival.circle_id), **entry.as_json()}, "")
        return
    circle = _name(circles, arrival.circle_id, names)
    former = former_members(circles, arrival.circle_id)
    for entry in arrival.entries:
        out.print(_line(circle, entry, former))
