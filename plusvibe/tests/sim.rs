//! Simulator tests (work in progress).
