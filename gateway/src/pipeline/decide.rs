//! The one decision point: every request for an app passes here before it may be proxied, and
//! only a [`Permitted`] request can reach the proxy. Who the client is and what the policy says
//! are decided here (policy files and login come in later steps); the type makes it impossible
//! to forward a request that skipped the decision.

use http::Request;

/// A request that the decision point let through. Only this module can make one.
#[derive(Debug)]
pub struct Permitted<T>(T);

impl<T> Permitted<T> {
    /// The request, for the proxy.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// What the decision point says.
#[derive(Debug)]
pub enum Verdict<T> {
    /// Go ahead.
    Permit(Permitted<T>),
}

/// Decides whether `req` for the app at `app_index` may pass. There is no access rule yet, so
/// every request for a configured app passes.
pub fn decide<B>(_app_index: usize, req: Request<B>) -> Verdict<Request<B>> {
    Verdict::Permit(Permitted(req))
}
