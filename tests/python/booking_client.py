#!/usr/bin/env python3
"""A client nobody here wrote: books online counselling through the real
Hello Work Takamatsu services using only the contracts in proto/.

The stubs are generated at run time with grpcio-tools (python -m
grpc_tools.protoc) from every .proto file under proto/, into a temporary
directory, and imported from there. The script then does what the Rust
end-to-end tests do (tests/tests/common/mod.rs, Stack::journey), as a front
system and a counter system of another government office would:

  1. an operator publishes the terms of use and the meeting app's terms
     (unless terms are already in force) and reads the versions in force;
  2. a person registers online; a counsellor at the counter, on the person's
     behalf, attests their device (Art. 2(3)) and environment (Art. 5,
     12(4)) and applies for online services under the terms in force, which
     counts as consent (Art. 2(1), 4, 6);
  3. the counsellor publishes two counselling slots and books one for the
     person with an interpreter (Art. 12(3)), retrying while the deemed
     consent travels from registration to consent; the confirmation must
     say the service is free (Art. 3, 12(5));
  4. a second person who registered but never applied is refused a booking:
     FAILED_PRECONDITION, whose google.rpc.Status carries an ErrorInfo
     (reason ART_..., metadata article) and a PreconditionFailure listing
     every unmet condition; nothing is booked for them;
  5. a booking with an empty request_id and a malformed slot_id is refused
     with INVALID_ARGUMENT and a google.rpc.BadRequest naming both fields.

Endpoints come from HELLOWORK_<SERVICE>_URL (as for every Hello Work
program) or the options below. Bearer tokens come from the environment:
HELLOWORK_TOKEN_<SERVICE>_<ROLE>, else HELLOWORK_TOKEN_<ROLE>, with or
without the "Bearer " prefix:

  consent       operator      publish and read the terms
  registration  job_seeker    online registration by the front system
  registration  counsellor    attestations and application at the counter
  scheduling    counsellor    slots and bookings; its subject must be the
                              --counsellor-id (default counsellor-1)

Against `hellowork up` one development token per role serves all services:

  token() { cargo run -q -p hellowork-cli -- token --subject "$1" --role "$2"; }
  export HELLOWORK_TOKEN_OPERATOR=$(token operator-1 operator)
  export HELLOWORK_TOKEN_JOB_SEEKER=$(token front-system job_seeker)
  export HELLOWORK_TOKEN_COUNSELLOR=$(token counsellor-1 counsellor)
  .venv/bin/python tests/python/booking_client.py

Exit status: 0 when every check passed, 1 when a check failed or a call
failed unexpectedly, 2 when the set-up is wrong (missing packages, tokens or
stub generation).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time
import uuid

REPO = pathlib.Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "tests" / "python" / "requirements.txt"

# (service, role) pairs the run needs, see the module doc.
TOKENS = [
    ("consent", "operator"),
    ("registration", "job_seeker"),
    ("registration", "counsellor"),
    ("scheduling", "counsellor"),
]

# Seconds any one call may take; the services answer in milliseconds.
CALL_TIMEOUT = 15.0

DEFAULT_URLS = {
    "registration": "http://127.0.0.1:50051",
    "consent": "http://127.0.0.1:50052",
    "scheduling": "http://127.0.0.1:50053",
}


class SetupError(Exception):
    """The run cannot start: packages, tokens or stubs are missing."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="booking_client.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for service, default in DEFAULT_URLS.items():
        variable = f"HELLOWORK_{service.upper()}_URL"
        parser.add_argument(
            f"--{service}",
            metavar="URL",
            default=os.environ.get(variable, default),
            help=f"the {service} service (default ${variable} or {default})",
        )
    parser.add_argument(
        "--proto",
        metavar="DIR",
        type=pathlib.Path,
        default=REPO / "proto",
        help="root of the .proto files (default: proto/ of this checkout)",
    )
    parser.add_argument(
        "--counsellor-id",
        default="counsellor-1",
        help="the counsellor publishing slots: the scheduling token's subject",
    )
    parser.add_argument(
        "--patience",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to retry the first booking while consent propagates",
    )
    parser.add_argument(
        "--ca",
        metavar="FILE",
        type=pathlib.Path,
        default=os.environ.get("HELLOWORK_TLS_CA_FILE") or None,
        help="speak TLS, trusting the CA in FILE (default $HELLOWORK_TLS_CA_FILE); "
        "https:// URLs require it",
    )
    parser.add_argument(
        "--check-deps",
        action="store_true",
        help="only check that grpcio, grpcio-tools and grpcio-status import",
    )
    return parser.parse_args(argv)


def import_grpc():
    """grpc, grpc_tools and grpc_status, or a SetupError saying how to get them."""
    try:
        import grpc
        import grpc_status  # noqa: F401
        import grpc_tools
        from google.rpc import error_details_pb2  # noqa: F401
    except ImportError as missing:
        raise SetupError(
            f"{missing}: install the client's packages with "
            f"`python3 -m pip install -r {REQUIREMENTS.relative_to(REPO)}` "
            "(`.ci/run` does, into .venv)"
        ) from missing
    return grpc, grpc_tools


def bearer(service: str, role: str) -> str:
    names = [f"HELLOWORK_TOKEN_{service.upper()}_{role.upper()}", f"HELLOWORK_TOKEN_{role.upper()}"]
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value if value.startswith("Bearer ") else f"Bearer {value}"
    raise SetupError(f"no {role} token for {service}: set {' or '.join(names)}")


def target(url: str) -> str:
    """`http://127.0.0.1:50051` → `127.0.0.1:50051`, as grpc channels take it."""
    for scheme in ("https://", "http://", "grpc://"):
        if url.startswith(scheme):
            url = url[len(scheme) :]
    return url.rstrip("/")


def generate_stubs(grpc_tools, proto_root: pathlib.Path, out: pathlib.Path) -> list[str]:
    """Runs grpc_tools.protoc on every .proto under `proto_root` into `out`;
    the module names generated (`hellowork.consent.v1.consent_pb2`, …)."""
    files = sorted(p.relative_to(proto_root).as_posix() for p in proto_root.rglob("*.proto"))
    if not files:
        raise SetupError(f"no .proto files under {proto_root}")
    # google/protobuf/*.proto (timestamp, duration) ship with grpc_tools; their
    # Python modules come with the protobuf runtime, so they are not generated.
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    command = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"-I{proto_root}", f"-I{well_known}",
        f"--python_out={out}", f"--grpc_python_out={out}",
        *files,
    ]  # fmt: skip
    generated = subprocess.run(command, cwd=proto_root, capture_output=True, text=True)
    if generated.returncode != 0:
        raise SetupError(f"protoc failed ({generated.returncode}):\n{generated.stderr}")
    modules = []
    for name in files:
        stem = name[: -len(".proto")].replace("/", ".")
        modules.append(f"{stem}_pb2")
        if (out / f"{name[: -len('.proto')]}_pb2_grpc.py").exists():
            modules.append(f"{stem}_pb2_grpc")
    return modules


def channel(grpc, url: str, ca: pathlib.Path | None):
    """A channel to `url`: TLS trusting `ca` when given (never plaintext to
    an https:// URL)."""
    if ca is not None:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca.read_bytes())
        return grpc.secure_channel(target(url), credentials)
    if url.startswith("https://"):
        raise SetupError(f"{url} is https://: give the CA with --ca or HELLOWORK_TLS_CA_FILE")
    return grpc.insecure_channel(target(url))


def art_reason(article: str) -> str:
    """`5(3)` → `ART_5_3`, as the services name an ErrorInfo reason."""
    return "ART_" + article.replace("(", "_").replace(")", "").upper()


class Client:
    """The generated stubs of the three services, with the tokens to call them."""

    def __init__(self, grpc, modules: dict, args: argparse.Namespace):
        self.grpc = grpc
        self.pb = modules
        self.args = args
        self.channels = {s: channel(grpc, getattr(args, s), args.ca) for s in DEFAULT_URLS}
        self.registration = modules["registration_grpc"].RegistrationServiceStub(
            self.channels["registration"]
        )
        self.consent = modules["consent_grpc"].ConsentServiceStub(self.channels["consent"])
        self.scheduling = modules["scheduling_grpc"].SchedulingServiceStub(
            self.channels["scheduling"]
        )
        self.tokens = {(s, r): bearer(s, r) for s, r in TOKENS}

    def auth(self, service: str, role: str) -> dict:
        """The keyword arguments of a call as `role` to `service`."""
        return {
            "metadata": (("authorization", self.tokens[(service, role)]),),
            "timeout": CALL_TIMEOUT,
        }

    def close(self):
        for channel in self.channels.values():
            channel.close()


def timestamp(at: datetime.datetime):
    from google.protobuf import timestamp_pb2

    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(at)
    return stamp


def rich_details(grpc_error):
    """The google.rpc.Status of a failed call, its details unpacked by type."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    # from_call also checks that the status in grpc-status-details-bin has
    # the call's code and message.
    status = rpc_status.from_call(grpc_error)
    assert status is not None, (
        f"{grpc_error.code().name} carries no google.rpc.Status (grpc-status-details-bin)"
    )
    details = {}
    for detail in status.details:
        for kind in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.PreconditionFailure,
            error_details_pb2.BadRequest,
            error_details_pb2.ResourceInfo,
        ):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                details[kind.__name__] = message
    return status, details


def describe_error(error) -> str:
    try:
        status, details = rich_details(error)
    except Exception:  # noqa: BLE001 - best effort, for the failure message only
        return f"{error.code().name}: {error.details()}"
    parts = [f"{error.code().name}: {status.message}"]
    parts += [f"  {name}: {message}".rstrip() for name, message in details.items()]
    return "\n".join(parts)


def publish_or_read_terms(c: Client, report: list[str]):
    """The terms in force, [online services, meeting app]; published first, as
    Stack::publish_terms does, when none are in force yet."""
    consent = c.pb["consent"]
    grpc = c.grpc
    auth = c.auth("consent", "operator")

    def in_force(kind):
        try:
            return c.consent.GetTermsInForce(
                consent.GetTermsInForceRequest(kind=kind, language="ja"), **auth
            ).terms_document
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    kinds = [consent.TERMS_KIND_ONLINE_SERVICES, consent.TERMS_KIND_MEETING_APP]
    published = False
    if in_force(kinds[0]) is None:
        c.consent.PublishTermsDocument(
            consent.PublishTermsDocumentRequest(
                request_id=str(uuid.uuid4()),
                version="2023-12-18",
                language="ja",
                title="オンラインを活用したサービス利用規約",
                full_text="第1条 (test text standing in for the office's terms)",
                established_date=consent.Date(year=2021, month=3, day=1),
                revised_date=consent.Date(year=2023, month=12, day=18),
                effective_date=consent.Date(year=2023, month=12, day=18),
            ),
            **auth,
        )
        published = True
    if in_force(kinds[1]) is None:
        c.consent.PublishMeetingAppTerms(
            consent.PublishMeetingAppTermsRequest(
                request_id=str(uuid.uuid4()),
                meeting_app_name="Designated meeting app",
                version="2024-04-01",
                language="ja",
                title="Meeting app terms",
                full_text="The meeting app's terms.",
                effective_date=consent.Date(year=2024, month=4, day=1),
            ),
            **auth,
        )
        published = True
    documents = []
    for kind in kinds:
        deadline = time.monotonic() + c.args.patience
        document = in_force(kind)
        while document is None and time.monotonic() < deadline:
            time.sleep(0.1)
            document = in_force(kind)
        assert document is not None, f"{consent.TermsKind.Name(kind)} never came into force"
        assert document.kind == kind
        assert len(document.sha256) == 64, f"sha256 {document.sha256!r}"
        documents.append(document)
    report.append(
        f"terms in force ({'published now' if published else 'already published'}): "
        f"online services {documents[0].version} (sha256 {documents[0].sha256[:12]}…), "
        f"meeting app {documents[1].version}"
    )
    return documents


def register(c: Client, name: tuple[str, str, str, str], email: str) -> str:
    """Online registration through the front system, as Stack::register."""
    reg = c.pb["registration"]
    response = c.registration.RegisterJobSeeker(
        reg.RegisterJobSeekerRequest(
            request_id=str(uuid.uuid4()),
            channel=reg.REGISTRATION_CHANNEL_ONLINE,
            name=reg.PersonName(
                family_name=name[0],
                given_name=name[1],
                family_name_reading=name[2],
                given_name_reading=name[3],
            ),
            date_of_birth=reg.Date(year=1990, month=4, day=1),
            contact=reg.Contact(email=email),
        ),
        **c.auth("registration", "job_seeker"),
    )
    seeker = response.job_seeker
    # The front system is not the person: it is told the id the identity
    # derives to and nothing else, not even whether it created the record
    # (Art. 8: no answer tells whether someone is registered).
    assert not response.created, "the front system is not told it created the person"
    uuid.UUID(seeker.job_seeker_id)  # a UUID, as the contract says
    assert seeker.channel == 0 and seeker.status == 0, "no record shown to the front system"
    return seeker.job_seeker_id


def passing_environment(reg):
    """The environment report of hellowork_testing::passing_environment."""
    now = timestamp(datetime.datetime.now(datetime.UTC).replace(microsecond=0))
    return reg.EnvironmentReport(
        device_security=reg.DeviceSecurityReport(compromise_detected=False, last_scanned_at=now),
        connection_type=reg.CONNECTION_TYPE_HOME_BROADBAND,
        operating_system=reg.OperatingSystemReport(
            name="Windows", version="11 25H2", latest_security_patches_applied=True
        ),
        firewall=reg.FirewallReport(enabled=True, minimal_allowed_services=True),
        installed_software_names=["LibreOffice"],
        antivirus=reg.AntivirusReport(
            installed=True,
            product_name="Security Suite",
            grade=reg.ANTIVIRUS_GRADE_PAID_EQUIVALENT,
            patterns_updated_at=now,
        ),
        readiness=reg.SessionReadinessReport(
            meeting_app_ready=True,
            connectivity_checked=True,
            browser_name="Firefox",
            browser_version="145",
            browser_up_to_date=True,
        ),
    )


def attest_and_apply(c: Client, seeker: str, terms, report: list[str]):
    """As Stack::attest_and_apply, by a counsellor on the person's behalf."""
    reg = c.pb["registration"]
    auth = c.auth("registration", "counsellor")
    device = c.registration.AttestDevice(
        reg.AttestDeviceRequest(
            request_id=str(uuid.uuid4()),
            job_seeker_id=seeker,
            device_kind=reg.DEVICE_KIND_PC,
            owned=True,
            has_webcam=True,
            can_prepare_meeting_app=True,
        ),
        **auth,
    ).device_attestation
    assert device.capable and not device.failures, f"device: {device}"
    environment = c.registration.AttestEnvironment(
        reg.AttestEnvironmentRequest(
            request_id=str(uuid.uuid4()),
            job_seeker_id=seeker,
            device_attestation_id=device.device_attestation_id,
            report=passing_environment(reg),
        ),
        **auth,
    ).environment_attestation
    failing = [reg.EnvironmentItem.Name(i.item) for i in environment.items if not i.passed]
    assert environment.passed and not failing, f"environment items failing: {failing}"
    assert environment.expires_at.ToDatetime() > environment.attested_at.ToDatetime()
    applied = c.registration.ApplyForOnlineServices(
        reg.ApplyForOnlineServicesRequest(
            request_id=str(uuid.uuid4()),
            job_seeker_id=seeker,
            terms_version=terms[0].version,
            terms_sha256=terms[0].sha256,
            meeting_app_terms_version=terms[1].version,
            meeting_app_terms_sha256=terms[1].sha256,
            language="ja",
        ),
        **auth,
    )
    application = applied.job_seeker.application
    assert application.terms_version == terms[0].version
    assert application.meeting_app_terms_sha256 == terms[1].sha256
    # Art. 2(2): applying makes an online registrant a Hello Work user.
    assert applied.converted_to_hello_work_user
    assert applied.job_seeker.category == reg.REGISTRANT_CATEGORY_HELLO_WORK_USER
    report.append(
        f"device attested (capable), environment attested ({len(environment.items)} items "
        f"passed, until {environment.expires_at.ToDatetime():%Y-%m-%d}), applied under "
        f"terms {application.terms_version}: now a Hello Work user"
    )


def publish_slots(c: Client, report: list[str]):
    """Two one-hour counselling slots of the counsellor, 2 to 23 days ahead
    (within the environment attestation's 30 days, and apart from earlier
    runs against the same services)."""
    sch = c.pb["scheduling"]
    from google.protobuf import duration_pb2

    now = datetime.datetime.now(datetime.UTC)
    start = now.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(
        days=2, hours=2 * random.randrange(250)
    )
    slots = c.scheduling.PublishAvailability(
        sch.PublishAvailabilityRequest(
            request_id=str(uuid.uuid4()),
            counsellor_id=c.args.counsellor_id,
            offering=sch.OFFERING_COUNSELLING,
            start_time=timestamp(start),
            end_time=timestamp(start + datetime.timedelta(hours=2)),
            slot_length=duration_pb2.Duration(seconds=3600),
            capacity=1,
        ),
        **c.auth("scheduling", "counsellor"),
    ).slots
    assert len(slots) == 2, f"two one-hour slots, got {len(slots)}"
    for slot in slots:
        assert slot.offering == sch.OFFERING_COUNSELLING
        assert slot.counsellor_id == c.args.counsellor_id
        assert (slot.capacity, slot.booked_count) == (1, 0)
        length = slot.end_time.ToDatetime() - slot.start_time.ToDatetime()
        assert length == datetime.timedelta(hours=1), f"slot length {length}"
    report.append(
        f"published 2 counselling slots of {c.args.counsellor_id} from {start:%Y-%m-%d %H:%M} UTC"
    )
    return slots


def book(c: Client, slot, seeker: str, report: list[str]) -> str:
    """Books `slot` for `seeker` with an interpreter, retrying while the
    deemed consent reaches the consent service (Stack::book_with_an_interpreter)."""
    sch = c.pb["scheduling"]
    grpc = c.grpc
    auth = c.auth("scheduling", "counsellor")
    deadline = time.monotonic() + c.args.patience
    attempts = 0
    while True:
        attempts += 1
        try:
            booked = c.scheduling.BookSession(
                sch.BookSessionRequest(
                    request_id=str(uuid.uuid4()),
                    slot_id=slot.slot_id,
                    job_seeker_id=seeker,
                    attendants=[sch.ATTENDANT_KIND_INTERPRETER],
                ),
                **auth,
            )
            break
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    booking = booked.booking
    notices = [sch.ConfirmationNotice.Name(n) for n in booked.notices]
    # Art. 3, 12(5): free of charge; device and data costs are the user's.
    for notice in (
        "CONFIRMATION_NOTICE_FREE_OF_CHARGE",
        "CONFIRMATION_NOTICE_DEVICE_AND_DATA_COSTS_BORNE_BY_USER",
    ):
        assert notice in notices, f"{notice} in {notices}"
    uuid.UUID(booking.booking_id)
    assert booking.slot_id == slot.slot_id
    assert booking.job_seeker_id == seeker
    assert booking.counsellor_id == c.args.counsellor_id
    assert booking.offering == sch.OFFERING_COUNSELLING
    assert booking.state == sch.BOOKING_STATE_CONFIRMED, sch.BookingState.Name(booking.state)
    assert booking.start_time == slot.start_time and booking.end_time == slot.end_time
    assert booking.HasField("booked_at")
    # Art. 12(3): the interpreter is declared, and the cut-off is before the session.
    assert [a.kind for a in booking.attendants] == [sch.ATTENDANT_KIND_INTERPRETER]
    assert booking.attendant_cutoff.ToDatetime() < booking.start_time.ToDatetime()
    assert not booking.HasField("checklist_completed_at")
    # The same booking read back, and listed among the person's bookings.
    fetched = c.scheduling.GetBooking(
        sch.GetBookingRequest(booking_id=booking.booking_id), **auth
    ).booking
    assert fetched == booking, f"GetBooking differs:\n{fetched}\nvs\n{booking}"
    listed = c.scheduling.ListBookings(
        sch.ListBookingsRequest(job_seeker_id=seeker), **auth
    ).bookings
    assert [b.booking_id for b in listed] == [booking.booking_id]
    report.append(
        f"booked {booking.booking_id} after {attempts} attempt(s): "
        f"{sch.BookingState.Name(booking.state)}, attendants "
        f"{[sch.AttendantKind.Name(a.kind) for a in booking.attendants]}, "
        f"cut-off {booking.attendant_cutoff.ToDatetime():%Y-%m-%d %H:%M} UTC, notices {notices}"
    )
    return booking.booking_id


def refused_booking(c: Client, slot, seeker: str, report: list[str]):
    """A person who never applied (no device, environment, application or
    consent) is refused by the terms: the rich details say why."""
    sch = c.pb["scheduling"]
    grpc = c.grpc
    auth = c.auth("scheduling", "counsellor")
    try:
        c.scheduling.BookSession(
            sch.BookSessionRequest(
                request_id=str(uuid.uuid4()), slot_id=slot.slot_id, job_seeker_id=seeker
            ),
            **auth,
        )
    except grpc.RpcError as error:
        refusal = error
    else:
        raise AssertionError("a person who never applied was booked")
    assert refusal.code() == grpc.StatusCode.FAILED_PRECONDITION, describe_error(refusal)
    status, details = rich_details(refusal)
    assert status.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert "ErrorInfo" in details, f"no ErrorInfo in {list(details)}"
    assert "PreconditionFailure" in details, f"no PreconditionFailure in {list(details)}"
    info = details["ErrorInfo"]
    assert info.reason.startswith("ART_"), f"ErrorInfo.reason {info.reason!r}"
    assert info.domain == "hellowork", f"ErrorInfo.domain {info.domain!r}"
    article = info.metadata["article"]
    assert article, "ErrorInfo.metadata['article'] is set"
    assert info.reason == art_reason(article), f"{info.reason} names Art. {article}"
    assert article in info.metadata["articles"].split(","), dict(info.metadata)
    violations = [(v.type, v.subject) for v in details["PreconditionFailure"].violations]
    assert violations, "every unmet condition is listed"
    assert violations[0][0] == info.reason, f"{violations[0]} first, as ErrorInfo"
    assert all(t.startswith("ART_") for t, _ in violations), violations
    assert {art_reason(a) for a in info.metadata["articles"].split(",")} == {
        t for t, _ in violations
    }, (dict(info.metadata), violations)
    subjects = {s for _, s in violations}
    # Art. 2(1), 6: no application and no consent; Art. 2(3): no device.
    for unmet in (
        "ELIGIBILITY_REASON_NOT_APPLIED",
        "ELIGIBILITY_REASON_CONSENT_MISSING",
        "ELIGIBILITY_REASON_NO_CAPABLE_DEVICE",
    ):
        assert unmet in subjects, f"{unmet} in {sorted(subjects)}"
    assert ("ART_2_1", "ELIGIBILITY_REASON_CONSENT_MISSING") in violations, violations
    # Nothing was written for them: they hold no booking in the counsellor's
    # slots, so the counsellor does not serve them and may not list their
    # bookings at all (Art. 8), the same answer as for anyone never booked.
    try:
        listed = c.scheduling.ListBookings(sch.ListBookingsRequest(job_seeker_id=seeker), **auth)
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED, error
        assert "Art. 8" in error.details(), error.details()
    else:
        raise AssertionError(f"a refused person holds bookings: {listed.bookings}")
    report.append(
        f"refused booking: {refusal.code().name}; ErrorInfo reason={info.reason} "
        f"domain={info.domain} article={article} articles={info.metadata['articles']}"
    )
    report.append("  PreconditionFailure: " + ", ".join(f"{t} {s}" for t, s in violations))


def invalid_booking(c: Client, seeker: str, report: list[str]):
    """Malformed input: INVALID_ARGUMENT with a BadRequest naming each field."""
    sch = c.pb["scheduling"]
    grpc = c.grpc
    try:
        c.scheduling.BookSession(
            sch.BookSessionRequest(request_id="", slot_id="slot-1", job_seeker_id=seeker),
            **c.auth("scheduling", "counsellor"),
        )
    except grpc.RpcError as error:
        invalid = error
    else:
        raise AssertionError("a booking without request_id was accepted")
    assert invalid.code() == grpc.StatusCode.INVALID_ARGUMENT, describe_error(invalid)
    _, details = rich_details(invalid)
    assert "BadRequest" in details, f"no BadRequest in {list(details)}"
    violations = [(v.field, v.description) for v in details["BadRequest"].field_violations]
    assert [f for f, _ in violations] == ["request_id", "slot_id"], violations
    assert all(d for _, d in violations), violations
    report.append(
        f"invalid booking: {invalid.code().name}; BadRequest "
        + "; ".join(f"{f}: {d}" for f, d in violations)
    )


def run(args: argparse.Namespace) -> list[str]:
    grpc, grpc_tools = import_grpc()
    for service, role in TOKENS:
        bearer(service, role)  # every token present before anything is called
    report = []
    with tempfile.TemporaryDirectory(prefix="hellowork-stubs-") as out:
        modules = generate_stubs(grpc_tools, args.proto.resolve(), pathlib.Path(out))
        sys.path.insert(0, out)
        try:
            # Every generated module imports (events and envelope included).
            loaded = {name: importlib.import_module(name) for name in modules}
        finally:
            sys.path.remove(out)
        from google.protobuf import __version__ as protobuf_version

        report.append(
            f"stubs: {len(modules)} modules from {len(list(args.proto.rglob('*.proto')))} .proto "
            f"files (grpcio {grpc.__version__}, protobuf {protobuf_version})"
        )
        pb = {
            "registration": loaded["hellowork.registration.v1.registration_pb2"],
            "registration_grpc": loaded["hellowork.registration.v1.registration_pb2_grpc"],
            "consent": loaded["hellowork.consent.v1.consent_pb2"],
            "consent_grpc": loaded["hellowork.consent.v1.consent_pb2_grpc"],
            "scheduling": loaded["hellowork.scheduling.v1.scheduling_pb2"],
            "scheduling_grpc": loaded["hellowork.scheduling.v1.scheduling_pb2_grpc"],
        }
        client = Client(grpc, pb, args)
        try:
            run_id = uuid.uuid4().hex[:12]
            terms = publish_or_read_terms(client, report)
            hanako = ("高松", "花子", "タカマツ", "ハナコ")
            seeker = register(client, hanako, f"hanako-{run_id}@example.jp")
            report.append(f"registered job seeker {seeker} online")
            attest_and_apply(client, seeker, terms, report)
            slots = publish_slots(client, report)
            book(client, slots[0], seeker, report)
            taro = ("丸亀", "太郎", "マルガメ", "タロウ")
            never_applied = register(client, taro, f"taro-{run_id}@example.jp")
            refused_booking(client, slots[1], never_applied, report)
            invalid_booking(client, seeker, report)
        finally:
            client.close()
    return report


def failing_line(error: BaseException) -> str:
    """Where in this script `error` was raised (or the failing call made)."""
    import traceback

    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == __file__]
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{frame.name} (line {frame.lineno}): {frame.line}"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        if args.check_deps:
            import_grpc()
            print("booking client: grpcio, grpcio-tools and grpcio-status are installed")
            return 0
        report = run(args)
    except SetupError as problem:
        print(f"booking client: cannot run: {problem}", file=sys.stderr)
        return 2
    except AssertionError as failed:
        print(f"booking client: FAILED at {failing_line(failed)}\n  {failed}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - a call failed: say which, with its details
        grpc = sys.modules.get("grpc")
        if grpc is not None and isinstance(error, grpc.RpcError):
            print(
                f"booking client: FAILED: the call at {failing_line(error)}\n"
                f"  failed with {describe_error(error)}",
                file=sys.stderr,
            )
        else:
            import traceback

            traceback.print_exc()
            print("booking client: FAILED with an unexpected error", file=sys.stderr)
        return 1
    print("booking client (Python, stubs generated from proto/):")
    for line in report:
        print(f"  {line}")
    print("booking client: OK, every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
