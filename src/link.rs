//! TODO(link): being written.
