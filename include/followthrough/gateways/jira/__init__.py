"""Jira Cloud: the transport, ADF conversion, JQL building and the ticket gateway.

- :mod:`.transport`: ``JiraClient`` (REST v3 over the provider's ``JiraHook`` session, with
  bounded, idempotency-aware retries) and its errors;
- :mod:`.adf`: Atlassian Document Format to and from text; inert ADF for tracker text;
- :mod:`.jql`: JQL literals and field names, idempotency labels and comment markers;
- :mod:`.tickets`: ``JiraTicketGateway``, the outbox's Jira actions exactly once.

The names below are re-exported so callers import from ``followthrough.gateways.jira``.
"""

from __future__ import annotations

from followthrough.gateways.delivery import DeliveryUncertain
from followthrough.gateways.jira.adf import adf_to_text, adf_to_text_with_unknown, text_to_adf
from followthrough.gateways.jira.jql import (
    MAX_PAGE_IDS_ONLY,
    MAX_PAGE_WITH_FIELDS,
    comment_marker,
    idempotency_label,
    jql_field,
    jql_quote,
)
from followthrough.gateways.jira.tickets import (
    DESCRIPTION_MAX,
    SUMMARY_MAX,
    JiraTicketGateway,
    classify_jira_error,
)
from followthrough.gateways.jira.transport import (
    API,
    JiraAmbiguousError,
    JiraApiError,
    JiraClient,
    JiraError,
    JiraRetriesExhausted,
    parse_retry_after,
)

__all__ = [
    "API", "DESCRIPTION_MAX", "MAX_PAGE_IDS_ONLY", "MAX_PAGE_WITH_FIELDS", "SUMMARY_MAX", "DeliveryUncertain",
    "JiraAmbiguousError", "JiraApiError", "JiraClient", "JiraError", "JiraRetriesExhausted", "JiraTicketGateway",
    "adf_to_text", "adf_to_text_with_unknown", "classify_jira_error", "comment_marker", "idempotency_label",
    "jql_field", "jql_quote", "parse_retry_after", "text_to_adf",
]
