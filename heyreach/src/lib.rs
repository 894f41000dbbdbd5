//! heyreach client (work in progress).
