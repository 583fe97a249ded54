"""Platform drivers, one contract (`ConfigDriver`), found by platform name."""
