//! TODO(suppress): being written.
