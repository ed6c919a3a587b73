//! HPACK (RFC 7541): header compression, in progress.
