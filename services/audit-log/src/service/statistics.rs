//! Art. 7(2): the usage statistics of a query of whole slots, counted in
//! the database and decided by [`crate::statistics`] under the configured
//! k, so no published count can be narrowed to fewer than k persons.

use hellowork_platform::ServiceError;

use super::{AuditLog, database};
use crate::domain::{grid::Query, kanon::Cell};

impl AuditLog {
    /// Art. 7(2): the cells of `query`'s slot length, each published or
    /// suppressed (below k, or to keep a suppressed one from being
    /// differenced).
    pub async fn usage_statistics(&self, query: &Query) -> Result<Vec<Cell>, ServiceError> {
        crate::statistics::usage_statistics(&self.pool, query, self.settings.k)
            .await
            .map_err(database)
    }
}
