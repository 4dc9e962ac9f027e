"""The transparency log: every change that matters to a user is a leaf of an RFC 9162 Merkle tree
whose signed heads (checkpoints) let anyone check that history was only ever appended to."""
