"""The simulated users of one load process, who they are friends with, and who is busy with whom.

Each process (the local runner, or each Locust worker) has its own population: a flow pairs two
of its users, so every copy a flow expects is received and checked by the process that acted.
"""
from __future__ import annotations

import dataclasses
import random
from typing import Any

from gevent.event import Event
from gevent.lock import Semaphore

from harness.target import Target, User


@dataclasses.dataclass(eq=False)
class Member:
    """One simulated Buddy4all user: its account, its HTTP client, connections and devices."""

    uid: int  # the backend's id as an integer (payloads carry integers)
    user: User
    target: Target  # its own HTTP session (keep-alive connection), as a real client has
    endpoints: list[str]  # WebSocket connection labels, e.g. "u12#1"
    devices: list[str]  # registered FCM device tokens
    friends: set[int] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class Friendship:
    state: str  # "pending" | "friends"
    requester: int
    friendship_id: Any


class Population:
    def __init__(self) -> None:
        self.members: dict[int, Member] = {}
        self._order: list[int] = []
        self.friendships: dict[frozenset[int], Friendship] = {}
        self._pair_locks: dict[frozenset[int], Semaphore] = {}
        #: set when the run is stopping: flows send no new action, so none is cut off mid-way
        self._stopping = Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()

    def sleep(self, seconds: float) -> None:
        """A pause that ends at once when the run starts stopping."""
        self._stopping.wait(seconds)

    def add(self, member: Member) -> None:
        self.members[member.uid] = member
        self._order.append(member.uid)

    def __len__(self) -> int:
        return len(self.members)

    def partner(self, member: Member, rng: random.Random, friends_first: float = 0.7) -> Member | None:
        """Someone else to act with: a friend most of the time (when there is one), else anyone."""
        if member.friends and rng.random() < friends_first:
            return self.members[rng.choice(sorted(member.friends))]
        if len(self._order) < 2:
            return None
        while True:
            uid = rng.choice(self._order)
            if uid != member.uid:
                return self.members[uid]

    def lock_pair(self, a: Member, b: Member) -> Semaphore | None:
        """The pair's friendship lock if free (a friendship has one state: one flow at a time)."""
        lock = self._pair_locks.setdefault(frozenset((a.uid, b.uid)), Semaphore())
        return lock if lock.acquire(blocking=False) else None

    def befriend(self, a: Member, b: Member, friendship_id: Any) -> None:
        self.friendships[frozenset((a.uid, b.uid))] = Friendship("friends", a.uid, friendship_id)
        a.friends.add(b.uid)
        b.friends.add(a.uid)

    def unfriend(self, a: Member, b: Member) -> None:
        self.friendships.pop(frozenset((a.uid, b.uid)), None)
        a.friends.discard(b.uid)
        b.friends.discard(a.uid)
