"""`backchannel takedown request|status`: for the person a warning may be about; no account."""

from typing import Annotated

import typer

from app.client.cli.context import existing_profile, http_for, server_url
from app.client.cli.output import JsonFlag, emit, errors, say, shown, token, working
from app.client.errors import ProtocolError
from app.client.takedown import file_takedown, takedown_status
from app.crypto import CryptoError, labels
from app.crypto.encoding import pasted_token
from app.crypto.takedowns import (
    Receipt,
    TakedownLink,
)

app = typer.Typer()


def _whole(text: str, path: str, prefix: str) -> str:
    """A bare token (the part after ``#``) is completed with this command's server URL
    (--server, BACKCHANNEL_SERVER, the profile's or the default)."""
    pasted = pasted_token(text)
    if pasted.startswith(prefix + "."):
        return f"{server_url(existing_profile())}/{path}#{pasted}"
    return text


takedown_app = typer.Typer(
    no_args_is_help=True, help="Ask a circle's admins to take down what it says about you."
)
app.add_typer(takedown_app, name="takedown")


@takedown_app.command("request")
def takedown_request(
    link: Annotated[str, typer.Argument(help="The circle's takedown link.")],
    name: Annotated[str, typer.Option(help="The name the warnings may be about (yours).")],
    text: Annotated[
        str, typer.Option(help="What you ask for, and why (the request fits in 4 KiB).")
    ],
    contact: Annotated[str, typer.Option(help="How the admins can reach you.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """File a takedown request; no account needed. Keep the receipt it prints."""
    with errors(as_json):
        link = _whole(link, "takedown", labels.TAKEDOWN_LINK_PREFIX)
        try:
            base_url = TakedownLink.parse(link).base_url
        except CryptoError as exc:
            raise ProtocolError(
                "bad_link",
                f"{exc}: give the takedown link the circle published "
                "(https://…/takedown#bctakedown1…)",
            ) from exc
        # The server asks for a proof of work first (seconds; more while it is flooded).
        with working(as_json, "encrypting, then the proof of work the server asks for…"):
            result = file_takedown(
                link, name=name, contact=contact, text=text, http=http_for(base_url)
            )
        emit(
            as_json,
            {"case_id": result["case_id"], "receipt": result["receipt"]},
            say(
                "Sent, encrypted to the circle's admins. Keep this receipt to check the status "
                "(it is the only way to read their answer):"
            ),
        )
        if not as_json:
            token(result["receipt"])


@takedown_app.command("status")
def takedown_check(
    receipt: Annotated[str, typer.Argument(help="The receipt from `takedown request`.")],
    as_json: JsonFlag = False,
) -> None:
    """The status of your takedown request and the admins' response, if any."""
    with errors(as_json):
        receipt = _whole(receipt, "receipt", labels.RECEIPT_PREFIX)
        try:
            base_url = Receipt.parse(receipt).base_url
        except CryptoError as exc:
            raise ProtocolError(
                "bad_receipt",
                f"{exc}: give the receipt `takedown request` printed (https://…/receipt#bcreceipt1…)",
            ) from exc
        result = takedown_status(receipt, http=http_for(base_url))
        human = say("Status: ", (shown(result["status"]), "bold"))
        if result["response"]:
            human += say("\nResponse from the admins:\n") + shown(
                result["response"], multiline=True
            )
        emit(as_json, {"status": result["status"], "response": result["response"]}, human)
