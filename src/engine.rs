//! TODO(engine): being written.
