//! plusvibe client (work in progress).
