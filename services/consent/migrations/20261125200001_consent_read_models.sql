-- Read models of the consent service (projections, rebuildable from events).

-- Every published terms version, full text included (GetTermsDocument), and
-- which series (kind, language) a document id belongs to (AnnounceRevision).
CREATE TABLE terms_documents (
    terms_document_id uuid PRIMARY KEY,
    kind              text NOT NULL,
    language          text NOT NULL,
    version           text NOT NULL,
    title             text NOT NULL,
    full_text         text NOT NULL,
    sha256            text NOT NULL,
    established_date  date,
    revised_date      date,
    effective_date    date NOT NULL,
    published_at      timestamptz NOT NULL,
    meeting_app_name  text NOT NULL,
    source_uri        text NOT NULL
);

-- Art. 13: every registered user is notified; only the id is kept (Art. 8),
-- with the time of registration (users registered after an announcement and
-- before its effective date are notified too).
CREATE TABLE registered_job_seekers (
    job_seeker_id uuid PRIMARY KEY,
    registered_at timestamptz NOT NULL
);

-- Art. 13: announced revisions, the source of every notice.
CREATE TABLE announced_revisions (
    revision_id           uuid PRIMARY KEY,
    new_terms_document_id uuid NOT NULL,
    new_version           text NOT NULL,
    new_sha256            text NOT NULL,
    ground                integer NOT NULL,
    change_summary        text NOT NULL,
    effective_date        date NOT NULL,
    effective_at          timestamptz NOT NULL,
    announced_at          timestamptz NOT NULL
);

-- Art. 13: one notice per registered user and revision.
CREATE TABLE notices (
    notice_id     uuid PRIMARY KEY,
    job_seeker_id uuid NOT NULL,
    revision_id   uuid NOT NULL REFERENCES announced_revisions (revision_id),
    notified_at   timestamptz NOT NULL,
    UNIQUE (job_seeker_id, revision_id)
);

CREATE INDEX notices_by_person ON notices (job_seeker_id, notified_at DESC, notice_id DESC);
