//! TODO(policy): being written.
