// The server's vocabulary, generated from the Rust enums and error codes by the gateway test
// `vocab` (gateway/tests/vocab.rs). Do not edit by hand: run
// `KEFU_WRITE_VOCAB=1 cargo test -p kefu-gateway --test vocab` to rewrite it.

/** Conversation statuses (`kefu_normalizer::Status`). */
export const CONVERSATION_STATUSES = /** @type {const} */ (["queued", "assigned", "pending", "transferring", "resolved", "closed"]);

/** The statuses of an open conversation (`Status::is_open`). */
export const OPEN_STATUSES = /** @type {const} */ (["queued", "assigned", "pending", "transferring"]);

/** Agent roles, least to most powerful (`kefu_gateway::auth::Role`). */
export const ROLES = /** @type {const} */ (["agent", "supervisor", "admin"]);

/** Agent presence. */
export const AGENT_STATUSES = /** @type {const} */ (["online", "away", "offline"]);

/** A reply's delivery status. */
export const DELIVERY_STATUSES = /** @type {const} */ (["pending", "sent", "delivered", "failed"]);

/** Event types of webhooks and the agent socket (`kefu_dispatcher::webhook::EventType`). */
export const EVENT_TYPES = /** @type {const} */ (["conversation.created", "conversation.queued", "conversation.assigned", "conversation.transferred", "conversation.resolved", "conversation.reopened", "conversation.updated", "conversation.closed", "conversation.labels_changed", "message.created", "message.updated", "message.failed", "contact.created", "contact.updated", "contact.merged", "contact.labels_changed", "agent.status_changed", "csat.requested", "csat.submitted", "conversation.bot_handoff"]);

/** What a line of a conversation's timeline says happened (`kefu_normalizer::ActivityKind`). */
export const ACTIVITY_KINDS = /** @type {const} */ (["assigned", "transferred", "resolved", "reopened", "routed", "priority_changed", "requeued", "csat_requested", "csat_skipped", "csat_submitted", "bot_handoff", "intent_detected"]);

/** Every `code` an API error or an agent socket error frame can carry. */
export const ERROR_CODES = /** @type {const} */ (["account_deactivated", "agent_at_capacity", "bad_frame", "blocked_content", "conflict", "file_too_large", "file_unavailable", "forbidden", "forbidden_origin", "illegal_transition", "insufficient_scope", "internal", "invalid_attribute", "invalid_body", "invalid_characters", "invalid_credentials", "invalid_email", "invalid_import", "invalid_query", "invalid_rating", "invalid_request", "invalid_session", "invite_expired", "invite_not_found", "llm_budget_exhausted", "llm_failed", "llm_not_configured", "llm_timeout", "malformed_json", "no_reachable_identity", "not_a_session", "not_found", "payload_too_large", "private_target_refused", "provider_unavailable", "public_url_not_public", "schedule_in_use", "session_required", "test_not_supported", "too_many_attempts", "too_many_uploads", "unauthorized", "unavailable", "unknown_attribute", "unknown_variable", "unknown_website", "unreadable_body", "unsupported_media_type", "use_profile_password", "weak_password", "wrong_password"]);

/** @typedef {typeof CONVERSATION_STATUSES[number]} ConversationStatus */
/** @typedef {typeof ROLES[number]} Role */
/** @typedef {typeof AGENT_STATUSES[number]} AgentStatus */
/** @typedef {typeof DELIVERY_STATUSES[number]} DeliveryStatus */
/** @typedef {typeof EVENT_TYPES[number]} EventType */
/** @typedef {typeof ACTIVITY_KINDS[number]} ActivityKind */
/** @typedef {typeof ERROR_CODES[number]} ErrorCode */
