"""Book free parking spots: mark them occupied on the data hub and remember the booking.

Bookings live in a local SQLite file (no PostgreSQL needed). Run one replica per
database file: the lock below only serialises bookings inside this process.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .ngsi import NgsiLdClient, property_attr, value

# Korean number plates: 2-3 digits, one Hangul syllable, 4 digits (e.g. 12가3456, 123나4567).
PLATE_PATTERN = re.compile(r"^\d{2,3}[가-힣]\d{4}$")


class BookingError(ValueError):
    """The booking request cannot be fulfilled (bad plate, no free spot, unknown booking)."""


@dataclass(frozen=True)
class Booking:
    id: int
    spot_id: str
    car_park_id: str
    plate: str
    booked_at: str
    released_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class BookingStore:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS booking (
                   id INTEGER PRIMARY KEY AUTOINCREMENT,
                   spot_id TEXT NOT NULL,
                   car_park_id TEXT NOT NULL,
                   plate TEXT NOT NULL,
                   booked_at TEXT NOT NULL,
                   released_at TEXT
               )"""
        )
        self._db.commit()
        self.lock = threading.Lock()

    def add(self, spot_id: str, car_park_id: str, plate: str) -> Booking:
        booked_at = _now()
        cursor = self._db.execute(
            "INSERT INTO booking (spot_id, car_park_id, plate, booked_at) VALUES (?, ?, ?, ?)",
            (spot_id, car_park_id, plate, booked_at),
        )
        self._db.commit()
        return Booking(int(cursor.lastrowid or 0), spot_id, car_park_id, plate, booked_at)

    def get(self, booking_id: int) -> Booking | None:
        row = self._db.execute(
            "SELECT id, spot_id, car_park_id, plate, booked_at, released_at FROM booking WHERE id = ?",
            (booking_id,),
        ).fetchone()
        return Booking(*row) if row else None

    def mark_released(self, booking_id: int) -> None:
        self._db.execute("UPDATE booking SET released_at = ? WHERE id = ?", (_now(), booking_id))
        self._db.commit()

    def active_spot_ids(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT spot_id FROM booking WHERE released_at IS NULL")}


def book_spot(client: NgsiLdClient, store: BookingStore, car_park_id: str, plate: str) -> Booking:
    """Book the first free spot of ``car_park_id`` for the car with number plate ``plate``."""
    plate = plate.replace(" ", "")
    if not PLATE_PATTERN.match(plate):
        raise BookingError(f"not a Korean number plate (e.g. 12가3456): {plate!r}")
    with store.lock:
        taken = store.active_spot_ids()
        free = sorted(
            spot["id"]
            for spot in client.entities("ParkingSpot")
            if value(spot, "refParkingSite") == car_park_id
            and value(spot, "status") == "free"
            and spot["id"] not in taken
        )
        if not free:
            raise BookingError(f"no free parking spot in {car_park_id}")
        client.update_attrs(free[0], {"status": property_attr("occupied")})
        return store.add(free[0], car_park_id, plate)


def release_booking(client: NgsiLdClient, store: BookingStore, booking_id: int) -> Booking:
    """End a booking and give its spot back (status ``free``)."""
    with store.lock:
        booking = store.get(booking_id)
        if booking is None:
            raise BookingError(f"no booking with id {booking_id}")
        if booking.released_at is not None:
            raise BookingError(f"booking {booking_id} was already released at {booking.released_at}")
        client.update_attrs(booking.spot_id, {"status": property_attr("free")})
        store.mark_released(booking_id)
        released = store.get(booking_id)
        assert released is not None
        return released


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
