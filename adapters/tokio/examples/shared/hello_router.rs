//! The hello-world axum `Router` of `axum_hello` (on h2proto) and `axum_hyper` (on hyper),
//! one file so both serve exactly the same application.

use axum::Router;
use axum::routing::get;

/// `GET /`: 13 bytes of text (as `/bytes/13` of `benches/servers.sh`); `GET /users/{id}`:
/// a route with a path extractor; anything else: 404.
pub fn router() -> Router {
    Router::new()
        .route("/", get(|| async { "Hello, world!" }))
        .route(
            "/users/{id}",
            get(|axum::extract::Path(id): axum::extract::Path<u64>| async move {
                format!("user {id}\n")
            }),
        )
}
