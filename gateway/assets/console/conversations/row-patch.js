// How a new message changes its conversation's list row: the preview, the waiting time and
// the unread count, computed from the event alone (the REST view stays authoritative).

/**
 * The fields of `conv` that `m` (a `message.created` event's message) changes.
 * @param {any} conv the row as listed
 * @param {any} m the new message
 * @param {boolean} watching whether the agent is looking at this conversation's thread
 * @returns {any}
 */
export function messagePatch(conv, m, watching) {
  const text = (m.content && m.content.text) || "";
  const at = m.created_at || new Date().toISOString();
  const inbound = m.direction === "inbound";
  return {
    id: conv.id, last_message_at: at, last_seq: Math.max(conv.last_seq || 0, m.seq || 0),
    last_message: { text, direction: m.direction, private: !!m.private, attachments: (m.content && m.content.attachments || []).length, created_at: at },
    // Only an agent's answer ends the wait: not a private note, not an automatic message.
    ...(inbound ? { last_inbound_at: at, waiting_since: conv.waiting_since || at }
      : m.private || (m.sender && m.sender.type !== "agent") ? {} : { waiting_since: null }),
    ...(inbound && !watching ? { unread_count: (conv.unread_count || 0) + 1 } : {}),
  };
}
