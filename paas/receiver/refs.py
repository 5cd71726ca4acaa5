"""What a push asks for, and whether the receiver takes it (pure).

The pre-receive hook reads one line per ref from git, `OLD NEW REF`; the
receiver takes exactly one ref per push: the app's deploy branch (a deploy),
or, with review apps, another branch (its review app made or updated, or
destroyed when the branch is deleted). Tags and other refs are refused, so
nothing but what was deployed is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ZERO = re.compile(r"0{40}(0{24})?\Z")
OBJECT_ID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\Z")
DEFAULT_BRANCHES = ("main", "master")
MAX_UPDATES = 1000


@dataclass(frozen=True)
class RefUpdate:
    """One ref a push changes: from `old` to `new` (all zeros: created or deleted)."""

    old: str
    new: str
    ref: str

    @property
    def is_delete(self) -> bool:
        """Whether the push deletes the ref."""
        return bool(ZERO.match(self.new))

    @property
    def is_create(self) -> bool:
        """Whether the push creates the ref."""
        return bool(ZERO.match(self.old))

    @property
    def branch(self) -> str | None:
        """The branch name, or None for a tag or another ref."""
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None


@dataclass(frozen=True)
class PushPolicy:
    """What an app takes: its deploy branches, and whether force pushes and deletes pass."""

    deploy_branches: tuple[str, ...] = DEFAULT_BRANCHES
    allow_force_push: bool = False
    allow_delete: bool = False
    review_apps: bool = True  # other branches go to the pipeline, which decides


@dataclass(frozen=True)
class PushDecision:
    """The refused refs (each with why), and the one update taken, if any.

    `review` is a push of another branch (its review app), `review_delete` a
    delete of one (its review app destroyed).
    """

    refused: list[tuple[RefUpdate, str]] = field(default_factory=list)
    deploy: RefUpdate | None = None
    delete: RefUpdate | None = None
    review: RefUpdate | None = None
    review_delete: RefUpdate | None = None


def parse_ref_updates(text: str) -> list[RefUpdate]:
    """The `OLD NEW REF` lines git gives a pre-receive hook.

    Raises:
        ValueError: a line is not of that form.
    """
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split(" ")
        if len(parts) != 3 or not OBJECT_ID.match(parts[0]) or not OBJECT_ID.match(parts[1]):
            raise ValueError(f"line {number} of the ref updates is not `OLD NEW REF`")
        updates.append(RefUpdate(*parts))
        if len(updates) > MAX_UPDATES:
            raise ValueError(f"more than {MAX_UPDATES} refs in one push")
    return updates


def decide_push(
    updates: list[RefUpdate], policy: PushPolicy, fast_forward: dict[str, bool]
) -> PushDecision:
    """Decide which refs of a push are taken.

    Args:
        updates: The ref updates of the push.
        policy: The app's policy.
        fast_forward: For each update of a deploy branch that is neither a
            create nor a delete, whether `new` descends from `old`.

    A push is all or nothing: when one ref is refused, git updates none.
    """
    refused: list[tuple[RefUpdate, str]] = []
    deploys: list[RefUpdate] = []
    deletes: list[RefUpdate] = []
    reviews: list[RefUpdate] = []
    review_deletes: list[RefUpdate] = []
    names = ", ".join(f"`{b}`" for b in policy.deploy_branches)
    for update in updates:
        if update.branch is None:
            refused.append((update, "only branches are taken (no tags or other refs)"))
        elif update.branch not in policy.deploy_branches:
            if not policy.review_apps:
                refused.append(
                    (update, f"only the deploy branch ({names}) is taken; review apps are off")
                )
            elif update.is_delete:
                review_deletes.append(update)
            else:
                reviews.append(update)  # a review branch may be rebased and force-pushed
        elif update.is_delete:
            if policy.allow_delete:
                deletes.append(update)
            else:
                refused.append(
                    (update, "deleting the deploy branch is refused (the app keeps running)")
                )
        elif not update.is_create and not fast_forward.get(update.ref, False):
            if policy.allow_force_push:
                deploys.append(update)
            else:
                refused.append(
                    (
                        update,
                        "a force push of the deploy branch is refused: "
                        "pull, merge or rebase onto it, and push again",
                    )
                )
        else:
            deploys.append(update)
    taken = deploys + deletes + reviews + review_deletes
    if len(taken) > 1:
        refused += [(u, "push one branch at a time") for u in taken]
    if refused:
        return PushDecision(refused=refused)
    return PushDecision(
        deploy=deploys[0] if deploys else None,
        delete=deletes[0] if deletes else None,
        review=reviews[0] if reviews else None,
        review_delete=review_deletes[0] if review_deletes else None,
    )
