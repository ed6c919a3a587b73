//! The gRPC echo service of the tonic tests (filled in by the next commit).
