//! [`ResponseFuture`]: what [`Payment`](crate::Payment) returns for one request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use coinslot_core::BoxFuture;
use http::Response;
use pin_project_lite::pin_project;

use crate::body::ResponseBody;

pin_project! {
    /// The future of [`Payment`](crate::Payment): the inner service's own future on a request
    /// no route prices, the payment flow on a priced one, or an answer known at once (the 402
    /// to a request without a payment).
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E> {
        PassThrough {
            #[pin]
            future: F,
        },
        Priced {
            future: BoxFuture<'static, Result<Response<ResponseBody<B>>, E>>,
        },
        Ready {
            response: Option<Response<ResponseBody<B>>>,
        },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) const fn pass_through(future: F) -> Self {
        Self {
            kind: Kind::PassThrough { future },
        }
    }

    pub(crate) fn priced(future: BoxFuture<'static, Result<Response<ResponseBody<B>>, E>>) -> Self {
        Self {
            kind: Kind::Priced { future },
        }
    }

    pub(crate) const fn ready(response: Response<ResponseBody<B>>) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::PassThrough { future } => future
                .poll(cx)
                .map(|result| result.map(|response| response.map(ResponseBody::inner))),
            KindProj::Priced { future } => future.as_mut().poll(cx),
            KindProj::Ready { response } => Poll::Ready(Ok(response
                .take()
                .expect("a ready response future is not polled after it completes"))),
        }
    }
}

impl<F, B, E> std::fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match &self.kind {
            Kind::PassThrough { .. } => "ResponseFuture::PassThrough",
            Kind::Priced { .. } => "ResponseFuture::Priced",
            Kind::Ready { .. } => "ResponseFuture::Ready",
        })
    }
}
