"""From passed to published: a person approves a role's kept profile, which becomes its next
version in `published/ROLE/` (`records.versions`), or refuses it, item by item if need be (the
items refused join the calibration labels)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..calibration.items import FAULTS, labelled_items
from ..errors import BadInput
from ..inputs.project import Project
from ..inputs.seeds import check_role_name, load_role
from ..records.profile import Profile
from ..records.runlog import RunRecord, now
from ..records.store import RunStore, held
from ..records.versions import Approval, ItemRefusal, Rejection, Version, VersionStore, profile_digest
from .calibration import label_item


@dataclass(frozen=True)
class Kept:
    """A role's kept profile, as a person signs it off or refuses it."""

    role: str
    run: RunRecord
    profile: Profile
    digest: str
    store: RunStore


def kept_profile(project: Project, role: str) -> Kept:
    """The role's kept profile (out/ROLE/profile.json) and the run that made it."""
    check_role_name(role)
    load_role(project.seeds, role)  # an unknown role is named with the roles there are
    store = RunStore(project.out_dir(role, None))
    run, profile = store.read_run(), store.read_profile()
    if run is None or profile is None:
        raise BadInput(
            f"{store.folder}: no drafted profile of {role}; draft it first (jfm draft --role {role})"
        )
    return Kept(role, run, profile, profile_digest(profile), store)


#: The longest a name (--by) and a note, reason or override may be.
MAX_NAME = 120
MAX_LINE = 1000


def one_line(flag: str, given: str, most: int, what: str, blank_ok: bool = False) -> str:
    """A value given on the command line as one line of plain text: no control or format
    characters (an escape sequence would reach the terminal; a right-to-left override would turn
    the site's text around), at most `most` characters, not blank unless `blank_ok`."""
    text = " ".join(given.split())
    odd = next((ch for ch in text if not ch.isprintable() or unicodedata.category(ch) == "Cf"), None)
    if odd is not None:
        raise BadInput(f"{flag}: holds U+{ord(odd):04X}; {what}, in one line of plain text")
    if not text and not blank_ok:
        raise BadInput(f"{flag}: is blank; {what}")
    if len(text) > most:
        raise BadInput(f"{flag}: {len(text)} characters, more than the {most} allowed")
    return text


def person(by: str) -> str:
    """A name given with --by."""
    return one_line("--by", by, MAX_NAME, "name who signs")


def approve(project: Project, role: str, by: str, note: str = "", override: str | None = None) -> Version:
    """Publish the role's kept profile as its next version, signed by `by`.

    Only a profile that passed the panel is approved, unless `override` says why; the same
    profile is not approved twice. Two approvals at once: one wins, the other is refused.
    """
    name = person(by)
    note = one_line("--note", note, MAX_LINE, "say what to know", blank_ok=True)
    if override is not None:
        override = one_line(
            "--override", override, MAX_LINE, "say why a profile that did not pass is approved"
        )
    kept = kept_profile(project, role)
    if kept.run.status not in ("passed", "not_passed"):
        raise BadInput(
            f"{kept.store.folder / 'run.json'}: the run is {kept.run.status}; approve the profile of a "
            "finished run"
        )
    # What the run says, not only the profile: a profile.json edited to say it passed is not.
    passed = (
        kept.run.status == "passed" and kept.profile.provenance is not None and kept.profile.provenance.passed
    )
    if not passed and override is None:
        raise BadInput(
            f"{kept.store.folder / 'profile.json'}: did not pass the panel ({kept.run.status}); "
            "approve it only with --override REASON"
        )
    versions = VersionStore(project.root, role)
    versions.folder.mkdir(parents=True, exist_ok=True)

    def busy() -> None:
        raise BadInput(f"{versions.folder}: another jfm is approving {role}; see its result with jfm roles")

    with held(versions.folder, busy):
        latest = versions.latest()
        if latest is not None and latest.digest == kept.digest:
            raise BadInput(
                f"{role}: this profile is v{latest.version} already (approved by {latest.approval.by})"
            )
        version = Version(
            version=latest.version + 1 if latest else 1,
            role=role,
            digest=kept.digest,
            approval=Approval(
                by=name,
                at=now(),
                note=note,
                override=override,
            ),
            run_started_at=kept.run.started_at,
            run_status=kept.run.status,
            profile=kept.profile,
            evidence=kept.store.read_evidence(),
        )
        versions.add_version(version)
    return version


def reject(project: Project, role: str, by: str, reason: str, refused: list[str] | None = None) -> Rejection:
    """Record a person's refusal of the role's kept profile; each of `refused` ("ITEM:FAULT" or
    "ITEM:FAULT:REASON") names an item, its class of fault and why (else the refusal's reason),
    and joins the calibration labels as a struck item."""
    name = person(by)
    reason = one_line("--reason", reason, MAX_LINE, "say why")
    kept = kept_profile(project, role)
    held_items = {item.id: item.text for item in labelled_items(kept.profile)}
    items = []
    for given in refused or []:
        item, _, rest = given.partition(":")
        fault, _, why = rest.partition(":")
        if item not in held_items:
            some = ", ".join(list(held_items)[:3])
            raise BadInput(
                f"--item {given}: the profile has no item {item!r} (its items are named like {some})"
            )
        if fault not in FAULTS:
            raise BadInput(f"--item {given}: name the fault after a colon, one of {', '.join(FAULTS)}")
        text = one_line(f"--item {item}", why, MAX_LINE, "say why", blank_ok=True) or reason
        items.append(ItemRefusal(item=item, text=held_items[item], fault=fault, reason=text))
    rejection = Rejection(role=role, digest=kept.digest, by=name, at=now(), reason=reason, items=items)
    # The labels first: one refused (the person judged the item already) records no refusal.
    for refusal in items:
        label_item(project, role, refusal.item, "strike", refusal.fault, refusal.reason, name)
    VersionStore(project.root, role).add_rejection(rejection)
    return rejection
