//! Telephone audio at the edge (to be implemented): G.711, resampling, WAV.
