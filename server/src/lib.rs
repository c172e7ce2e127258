//! hallpass-server
