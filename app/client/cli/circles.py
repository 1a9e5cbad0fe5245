"""`backchannel circle|invite|member|join`: circles from the command line."""

from typing import Annotated

import typer

from app.client.circles import Member
from app.client.cli.context import (
    CircleId,
    circles_session,
    renew_moderation_key,
)
from app.client.cli.ids import circle_arg, invite_arg
from app.client.cli.output import JsonFlag, emit, out, say, short_id, shown, table, token
from app.client.errors import ProtocolError
from app.client.moderation import Moderation
from app.crypto.circles import Invite

app = typer.Typer()
circle_app = typer.Typer(no_args_is_help=True, help="Create, list and leave circles.")
invite_app = typer.Typer(no_args_is_help=True, help="Invite people into a circle.")
member_app = typer.Typer(no_args_is_help=True, help="Confirm, remove, promote and demote members.")
app.add_typer(circle_app, name="circle")
app.add_typer(invite_app, name="invite")
app.add_typer(member_app, name="member")


@circle_app.command("create")
def circle_create(
    name: str,
    description: Annotated[str, typer.Option(help="Shown to members only.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Create a circle; you are its owner. Its name is encrypted: the server never sees it."""
    with circles_session(as_json) as circles:
        circle = circles.create(name, description)
        renew_moderation_key(circles, circle.circle_id)
        emit(
            as_json,
            {"circle_id": str(circle.circle_id), "name": circle.name, "epoch": circle.epoch},
            say("Created ", (shown(circle.name), "bold"), f" (id {short_id(circle.circle_id)})"),
        )


@circle_app.command("list")
def circle_list(as_json: JsonFlag = False) -> None:
    """Your circles (names decrypted and verified on this device)."""
    with circles_session(as_json) as circles:
        rows = [
            {
                "circle_id": c["circle_id"],
                "name": c["name"],
                "role": c["role"],
                "epoch": c["epoch"],
                "status": c["status"],
                **(
                    {
                        "deleted_by": c["deleted_by"],
                        "deleted_at": c["deleted_at"],
                        "verified": c["verified"],
                    }
                    if c["status"] == "deleted"
                    else {}
                ),
            }
            for c in circles.list_circles()
        ]
        if not as_json:  # the name is known once you are in: say why there is none
            for row in rows:
                if row["status"] == "deleted":
                    checked = "" if row["verified"] else " (the server says so; it did not verify)"
                    row["status"] = f"deleted by {row['deleted_by']}{checked}"
            rows = [r | {"name": _unnamed(r["status"])} if r["name"] is None else r for r in rows]
        table(
            as_json,
            rows,
            ["circle_id", "name", "role", "status", "epoch"],
            "Your circles",
            ids=["circle_id"],
            empty="You are in no circle. Create one (circle create) or join with an invite.",
        )


def _unnamed(status: str) -> str:
    if status == "pending":
        return "(waiting for an admin to confirm you; the name shows once you are in)"
    if status == "active":
        return "(its name did not verify on this device)"
    return f"(you are no longer in it: {status})"


@circle_app.command("delete")
def circle_delete(
    circle_id: CircleId,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask to confirm.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete a circle for everyone (owners only): its warnings and keys go, members see
    that you deleted it. This cannot be undone."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        if not yes and not typer.confirm(
            "Delete this circle and every warning in it, for every member?"
        ):
            raise typer.Exit(1)
        circles.delete(cid)
        emit(as_json, {"circle_id": str(cid), "status": "deleted"}, "The circle was deleted.")


@circle_app.command("leave")
def circle_leave(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """Leave a circle (or withdraw a pending request). The key rotates on the next admin action."""
    with circles_session(as_json) as circles:
        result = circles.leave(circle_arg(circles, circle_id))
        emit(as_json, {"circle_id": circle_id, "status": result["status"]}, "You left the circle.")


@circle_app.command("rotate")
def circle_rotate(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """Start a new key epoch for the current members."""
    with circles_session(as_json) as circles:
        result = circles.rotate(circle_arg(circles, circle_id))
        emit(
            as_json,
            {"circle_id": circle_id, "epoch": result["epoch"]},
            f"The circle key was rotated (epoch {result['epoch']}).",
        )


@invite_app.command("create")
def invite_create(
    circle_id: CircleId,
    max_uses: Annotated[int, typer.Option(min=1, max=1000)] = 1,
    expires_in: Annotated[int, typer.Option(min=1, max=90, help="Days.")] = 7,
    role: Annotated[str, typer.Option(help="member or admin")] = "member",
    as_json: JsonFlag = False,
) -> None:
    """Make an invite string to send privately; it names you by fingerprint."""
    with circles_session(as_json) as circles:
        invite, created = circles.create_invite(
            circle_arg(circles, circle_id), role=role, max_uses=max_uses, expires_in_days=expires_in
        )
        emit(
            as_json,
            {
                "invite": str(invite),
                "invite_id": created["invite_id"],
                "expires_at": created["expires_at"],
            },
            say("Send this privately (it works until ", created["expires_at"][:16], "):"),
        )
        if not as_json:
            token(str(invite))


@invite_app.command("list")
def invite_list(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """The circle's invites: role, uses, expiry, and whether they were withdrawn (admins)."""
    with circles_session(as_json) as circles:
        rows = circles.invites(circle_arg(circles, circle_id))
        table(
            as_json,
            rows,
            ["invite_id", "role", "uses", "max_uses", "expires_at", "revoked", "created_by"],
            "Invites",
            ids=["invite_id"],
            empty="No invites.",
        )


@invite_app.command("revoke")
def invite_revoke(
    circle_id: CircleId,
    invite_id: Annotated[str, typer.Argument(help="The invite's id as `invite list` shows it.")],
    as_json: JsonFlag = False,
) -> None:
    """Withdraw an invite: nobody can use it any more (admins)."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        result = circles.revoke_invite(cid, invite_arg(circles, cid, invite_id))
        emit(
            as_json,
            {"invite_id": result["invite_id"], "revoked": result["revoked"]},
            "Invite revoked.",
        )


@app.command()
def join(invite: str, as_json: JsonFlag = False) -> None:
    """Redeem an invite. An admin must compare your fingerprint before you are in."""
    with circles_session(as_json) as circles:
        result = circles.join(invite)
        inviter = Invite.parse(invite).inviter_fingerprint  # checked against the server by join
        data = {**result, "fingerprint": circles.fingerprint, "inviter_fingerprint": inviter}
        if as_json:
            emit(True, data, "")
            return
        out.print(
            say("Invited by the person with this fingerprint (check it with them if you can):")
        )
        token(inviter)
        out.print(say("Request sent. Read your fingerprint to an admin:"))
        token(circles.fingerprint)


@member_app.command("list")
def member_list(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """The circle's members and people waiting to join, with their fingerprints."""
    with circles_session(as_json) as circles:
        rows = [
            {
                "username": m.username,
                "role": m.role,
                "status": m.status,
                "fingerprint": m.fingerprint,
            }
            for m in circles.members(circle_arg(circles, circle_id))
        ]
        table(
            as_json,
            rows,
            ["username", "role", "status", "fingerprint"],
            "Members",
            empty="No members.",
        )


@member_app.command("confirm")
def member_confirm(
    circle_id: CircleId,
    username: str,
    fingerprint: Annotated[
        str | None, typer.Option(help="The fingerprint the person read to you.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Admit a pending member after comparing their fingerprint with what they told you."""

    def ask(member: Member) -> bool:
        out.print(
            say(shown(member.username), f" asks to join as {member.role}. Their fingerprint:")
        )
        token(member.fingerprint)
        return typer.confirm("Does it match what they read to you?", default=False)

    with circles_session(as_json) as circles:
        result = circles.confirm(
            circle_arg(circles, circle_id),
            username,
            fingerprint=fingerprint,
            ask=None if as_json else ask,
        )
        emit(
            as_json,
            {"username": result["username"], "status": result["status"], "epoch": result["epoch"]},
            say(shown(username), " is now a member."),
        )


@member_app.command("remove")
def member_remove(circle_id: CircleId, username: str, as_json: JsonFlag = False) -> None:
    """Remove a member; the circle key rotates so they cannot read anything new."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        result = circles.remove(cid, username)
        renew_moderation_key(circles, cid)
        emit(
            as_json,
            {"username": result["username"], "status": result["status"], "epoch": result["epoch"]},
            say(shown(username), f" was removed (key epoch {result['epoch']})."),
        )


_PROMOTE = {"member": "admin", "admin": "owner"}
_DEMOTE = {"owner": "admin", "admin": "member"}
_ARTICLE = {"member": "a", "admin": "an", "owner": "an"}


def _change_role(circle_id: str, username: str, table: dict[str, str], as_json: bool) -> None:
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        current = next(
            (
                m.role
                for m in circles.members(cid)
                if m.username == username and m.status == "active"
            ),
            None,
        )
        if current is None:
            raise ProtocolError(
                "not_a_member",
                f"{username} is not an active member of this circle (member list shows who is)",
            )
        if current not in table:
            raise ProtocolError(
                "role_unchanged",
                f"{username} is {_ARTICLE[current]} {current} already"
                + (
                    ": there is no lower role (to take them out, use member remove)"
                    if current == "member"
                    else ": there is no higher role"
                ),
            )
        result = circles.set_role(cid, username, table[current])
        renew_moderation_key(circles, cid)
        emit(
            as_json,
            {"username": username, "role": result["role"]},
            say(shown(username), f" is now {result['role']}."),
        )


@member_app.command("promote")
def member_promote(circle_id: CircleId, username: str, as_json: JsonFlag = False) -> None:
    """Make a member an admin, or an admin an owner (owners)."""
    _change_role(circle_id, username, _PROMOTE, as_json)


@member_app.command("demote")
def member_demote(circle_id: CircleId, username: str, as_json: JsonFlag = False) -> None:
    """Make an owner an admin, or an admin a member (owners)."""
    _change_role(circle_id, username, _DEMOTE, as_json)


@circle_app.command("takedown-link")
def takedown_link(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """A link anyone can use to send this circle's admins an encrypted takedown request."""
    with circles_session(as_json) as circles:
        link = Moderation(circles).takedown_link(circle_arg(circles, circle_id))
        emit(as_json, {"link": link}, say("Takedown link (publish it where people find it):"))
        if not as_json:
            token(link)
