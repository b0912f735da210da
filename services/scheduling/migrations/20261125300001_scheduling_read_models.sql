-- Read models of scheduling's own events (src/projections): what the queries
-- need, and where a slot, booking or refusal lives (which stream). Rows are
-- keyed by the events' ids; the handlers insert a new slot's or booking's row
-- right after the append (ON CONFLICT DO NOTHING) so the next request finds
-- it, and the projection writes the same values, so a rebuild from the
-- events reproduces them exactly. Times are UTC; `tokyo_date` is the
-- Asia/Tokyo date of the start (Art. 1: times shown in Asia/Tokyo).

CREATE TABLE slots (
    slot_id       text PRIMARY KEY,
    counsellor_id text NOT NULL,
    offering      integer NOT NULL,
    start_time    timestamptz NOT NULL,
    end_time      timestamptz NOT NULL,
    tokyo_date    date NOT NULL,
    capacity      integer NOT NULL
);
CREATE INDEX slots_offering_date ON slots (offering, tokyo_date, start_time);
CREATE INDEX slots_counsellor_date ON slots (counsellor_id, tokyo_date, start_time);

-- `state` is the BookingState enum value; `active` = holds a seat.
CREATE TABLE bookings (
    booking_id    text PRIMARY KEY,
    slot_id       text NOT NULL,
    job_seeker_id text NOT NULL,
    counsellor_id text NOT NULL,
    start_time    timestamptz NOT NULL,
    state         integer NOT NULL
);
CREATE INDEX bookings_job_seeker ON bookings (job_seeker_id, start_time);
CREATE INDEX bookings_slot ON bookings (slot_id);

-- Art. 12(1): refusals, to find a refusal's person when it is lifted.
CREATE TABLE refusals (
    refusal_id    text PRIMARY KEY,
    job_seeker_id text NOT NULL
);
