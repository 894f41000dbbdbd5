//! Secrets never leak (issue 3).
