"""One ComponentResource per file; each takes a typed Args dataclass and only declares resources."""
