"""Gateways: every external effect (Jira, Slack) goes through one of these small interfaces."""

from __future__ import annotations
