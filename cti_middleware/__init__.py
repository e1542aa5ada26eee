"""CTI middleware for FreeSWITCH call centres."""

__version__ = "0.1.0"
