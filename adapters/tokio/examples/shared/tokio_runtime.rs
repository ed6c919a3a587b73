//! The runtime a tokio example server asks for with `--workers` (see `serve_cli.rs`).

/// A current-thread runtime for 0 workers (one thread, as the hyper baseline of
/// `benches/servers.sh`), else a multi-thread runtime of `workers` threads.
pub fn build(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    match workers {
        0 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
    }
}
