//! Conformance suite and mock server (in progress).
