// The webhook event types a subscription can pick, in the server's documentation order
// (`EventType::ALL` in `dispatcher/src/webhook/payload.rs`). To be replaced by the generated
// server vocabulary module once it exists.

/** @type {readonly string[]} */
export const EVENT_TYPES = Object.freeze([
  "conversation.created",
  "conversation.queued",
  "conversation.assigned",
  "conversation.transferred",
  "conversation.resolved",
  "conversation.reopened",
  "conversation.updated",
  "conversation.closed",
  "message.created",
  "message.updated",
  "message.failed",
  "contact.created",
  "contact.merged",
  "agent.status_changed",
]);
