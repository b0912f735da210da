use super::*;

#[test]
fn a_forbidden_action_names_its_articles_in_rich_details() {
    let status = ServiceError::Forbidden(vec![
        ArticleViolation {
            article: Article::Art5_3,
            subject: "environment.os".into(),
            description: "OS support ended".into(),
        },
        ArticleViolation {
            article: Article::Art5_5,
            subject: "environment.file_sharing".into(),
            description: "file-sharing software present".into(),
        },
    ])
    .into_status();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let details = status.get_error_details();
    let info = details.error_info().unwrap();
    assert_eq!(info.reason, "ART_5_3");
    assert_eq!(info.metadata["article"], "5(3)");
    assert_eq!(info.metadata["articles"], "5(3),5(5)");
    let failures = &details.precondition_failure().unwrap().violations;
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[1].r#type, "ART_5_5");
}

/// A state refusal is told from an article refusal by its violation
/// type, and carries no `ErrorInfo` naming an article.
#[test]
fn a_state_refusal_carries_a_state_precondition_failure() {
    let status = ServiceError::FailedPrecondition("booking b-1 is not open".into()).into_status();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(status.message(), "booking b-1 is not open");
    let details = status.get_error_details();
    assert!(details.error_info().is_none());
    let failures = &details.precondition_failure().unwrap().violations;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].r#type, "STATE");
    assert_eq!(failures[0].description, "booking b-1 is not open");
}

#[test]
fn refused_callers_get_error_info_without_personal_data() {
    let status =
        ServiceError::PermissionDenied("not allowed for this caller on this booking".into())
            .into_status();
    assert_eq!(status.code(), Code::PermissionDenied);
    let details = status.get_error_details();
    let info = details.error_info().unwrap();
    assert_eq!(info.reason, "CALLER_NOT_ALLOWED");
    assert_eq!(info.domain, ERROR_DOMAIN);
    assert!(info.metadata.is_empty());

    let status = ServiceError::Unauthenticated("no verified caller".into()).into_status();
    assert_eq!(status.code(), Code::Unauthenticated);
    let info = status.get_error_details().error_info().cloned().unwrap();
    assert_eq!(info.reason, "CALLER_NOT_VERIFIED");
    assert_eq!(info.domain, ERROR_DOMAIN);
}

#[test]
fn invalid_input_lists_every_field() {
    let status = ServiceError::InvalidArgument(vec![
        FieldViolation::new("name.family", "must not be empty"),
        FieldViolation::new("date_of_birth", "must be in the past"),
    ])
    .into_status();
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    let violations = &details.bad_request().unwrap().field_violations;
    assert_eq!(violations[0].field, "name.family");
    assert_eq!(violations[1].field, "date_of_birth");
}

/// One violation per element of a long list still fits the trailers
/// every client accepts: the first ones are listed, the rest counted.
#[test]
fn a_long_list_of_violations_is_cut_and_counted() {
    let violations = (0..1000)
        .map(|i| FieldViolation::new(format!("scope.job_seeker_ids[{i}]"), "must not be empty"))
        .collect();
    let status = ServiceError::InvalidArgument(violations).into_status();
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    let listed = &details.bad_request().unwrap().field_violations;
    assert_eq!(listed.len(), MAX_REPORTED_VIOLATIONS);
    assert_eq!(listed[0].field, "scope.job_seeker_ids[0]");
    assert!(
        status.message().ends_with("; and 980 more"),
        "{}",
        status.message()
    );
    assert!(status.message().len() + status.details().len() < 4096);
}

#[test]
fn long_fields_descriptions_and_names_are_clipped() {
    let long = "あ".repeat(100_000);
    let status = ServiceError::invalid(long.clone(), long.clone()).into_status();
    let details = status.get_error_details();
    let violation = &details.bad_request().unwrap().field_violations[0];
    assert_eq!(violation.field.chars().count(), MAX_DETAIL_CHARS);
    assert!(violation.field.ends_with('…'));
    assert!(status.message().chars().count() < 2 * MAX_DETAIL_CHARS + 40);

    let status = ServiceError::NotFound {
        resource_type: "terms in force",
        resource_name: long.clone(),
    }
    .into_status();
    assert!(status.message().chars().count() <= MAX_MESSAGE_CHARS);
    let details = status.get_error_details();
    let info = details.resource_info().unwrap();
    assert_eq!(info.resource_name.chars().count(), MAX_DETAIL_CHARS);

    let status = ServiceError::forbidden(Article::Art7_2, long.clone(), long).into_status();
    let details = status.get_error_details();
    let failure = &details.precondition_failure().unwrap().violations[0];
    assert_eq!(failure.subject.chars().count(), MAX_DETAIL_CHARS);
    assert!(status.message().chars().count() < MAX_DETAIL_CHARS + 40);
}

#[test]
fn clip_keeps_short_text_and_cuts_on_characters() {
    assert_eq!(clip("abc", 3), "abc");
    assert_eq!(clip("abcd", 3), "ab…");
    assert_eq!(clip("ああああ", 3), "ああ…");
    assert_eq!(clip("", 3), "");
}

#[derive(Debug, thiserror::Error)]
#[error("relation \"secret_table\" does not exist")]
struct LeakySqlError;

#[test]
fn internal_errors_are_opaque() {
    let status = ServiceError::internal(LeakySqlError).into_status();
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.message(), "internal error");
    assert!(status.details().is_empty());
}
