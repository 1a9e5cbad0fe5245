"""The audit log: RFC 6962 Merkle trees over each circle's records, signed tree heads."""
