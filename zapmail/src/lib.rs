//! zapmail client (work in progress).
