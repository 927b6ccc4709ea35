"""crisisdesk: a self-hosted crisis desk for the people who run social media pages."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
