//! A person and a page of a list (`ListConsentReceipts`, `ListNotices`):
//! the page size within its bounds and the token of the next page.

use hellowork_platform::ServiceError;

use super::fields::{Violations, present};
use crate::domain::values::JobSeekerId;

/// Default and largest page sizes of the list RPCs.
const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i32 = 500;

/// A page of a list: offset and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub size: i64,
}

impl Page {
    /// The token of the page after this one, if `returned` filled it.
    pub fn next_token(self, returned: usize) -> String {
        if i64::try_from(returned).unwrap_or(i64::MAX) < self.size {
            String::new()
        } else {
            (self.offset + self.size).to_string()
        }
    }
}

/// A person and a page (`ListConsentReceipts`, `ListNotices`).
pub fn person_page(
    job_seeker_id: &str,
    page_size: i32,
    page_token: &str,
) -> Result<(JobSeekerId, Page), ServiceError> {
    let mut v = Violations::default();
    let person = v.check("job_seeker_id", JobSeekerId::new(job_seeker_id));
    let size = v.check(
        "page_size",
        match page_size {
            0 => Ok(DEFAULT_PAGE_SIZE),
            1..=MAX_PAGE_SIZE => Ok(i64::from(page_size)),
            _ => Err(format!(
                "must be 0 (default {DEFAULT_PAGE_SIZE}) to {MAX_PAGE_SIZE}"
            )),
        },
    );
    let offset = v.check(
        "page_token",
        if page_token.is_empty() {
            Ok(0)
        } else {
            page_token
                .parse::<u32>()
                .map(i64::from)
                .map_err(|_| "must be a token returned as next_page_token".to_owned())
        },
    );
    v.finish()?;
    Ok((
        present(person)?,
        Page {
            offset: present(offset)?,
            size: present(size)?,
        },
    ))
}
