//! The file system (being written).
