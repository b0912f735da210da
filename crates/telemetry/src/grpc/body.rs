//! The response body of a call, watched for its end: the trailers carry the
//! final `grpc-status` of calls that were not answered trailers-only.

use std::{
    pin::Pin,
    task::{Context, Poll, ready},
};

use http_body::{Body, Frame, SizeHint};
use tonic::Code;

use super::{call::Call, status};

pin_project_lite::pin_project! {
    /// A response body that records its call when the stream ends (or is
    /// dropped); a streamed response is produced inside the call's span.
    #[derive(Debug)]
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }
}

impl<B> ObservedBody<B> {
    pub(crate) fn new(inner: B, call: Option<Call>) -> Self {
        Self { inner, call }
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = {
            let _entered = this.call.as_ref().map(|call| call.span().enter());
            ready!(this.inner.poll_frame(cx))
        };
        let code = match &frame {
            Some(Ok(frame)) => frame
                .trailers_ref()
                .map(|trailers| status::from_headers(trailers).unwrap_or(Code::Ok)),
            Some(Err(_)) => Some(Code::Unknown),
            None => Some(Code::Ok),
        };
        if let Some(code) = code
            && let Some(mut call) = this.call.take()
        {
            call.settle(code);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
