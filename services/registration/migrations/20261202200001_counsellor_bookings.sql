-- Art. 8: which counsellors a person booked sessions with, from scheduling's
-- SessionBooked / BookingRescheduled events: a counsellor reads only the
-- people they serve. Written only by the projection (src/projections), so a
-- rebuild from scheduling's events reproduces it.
CREATE TABLE counsellor_bookings (
    job_seeker_id text NOT NULL,
    counsellor_id text NOT NULL,
    PRIMARY KEY (job_seeker_id, counsellor_id)
);
