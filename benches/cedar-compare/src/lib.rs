//! See `benches/side_by_side.rs`.
