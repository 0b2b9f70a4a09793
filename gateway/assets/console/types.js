// Shapes of what the API returns, as JSDoc types for `tsc --checkJs` (no runtime code).
// Field lists follow gateway/src/api and the console contract; extra fields are allowed.

/**
 * @typedef {import("./vocab.js").Role} Role
 * @typedef {import("./vocab.js").AgentStatus} AgentStatus
 * @typedef {import("./vocab.js").ConversationStatus} ConversationStatus
 */

/**
 * An agent as `GET /api/v1/agents` lists it.
 * @typedef {Object} Agent
 * @property {number} id
 * @property {string} email
 * @property {string} name
 * @property {Role} role
 * @property {number} max_concurrent
 * @property {AgentStatus} status
 * @property {Record<string, number>} skills skill → level 1–10
 * @property {string} [created_at]
 * @property {boolean} [active]
 * @property {boolean} [invite_pending]
 * @property {number[]} [team_ids]
 * @property {string|null} [avatar_url] their picture, relative to Kefu's address
 * @property {string} [invite_url] only in the answer that created or re-invited the agent
 * @property {string} [invite_expires_at]
 */

/**
 * Notification preferences of the profile.
 * @typedef {Object} Notifications
 * @property {boolean} sound
 * @property {boolean} desktop
 * @property {boolean} new_assignment
 * @property {boolean} new_message
 * @property {boolean} mention
 */

/**
 * The signed-in agent: the agent view plus profile fields (`GET /api/v1/profile`).
 * @typedef {Agent & {language?: "en"|"zh-CN", notifications?: Notifications, away_after_minutes?: number}} Profile
 */

/**
 * One line of a conversation's timeline.
 * @typedef {Object} Activity
 * @property {number} id
 * @property {number} conversation_id
 * @property {import("./vocab.js").ActivityKind} kind
 * @property {{id: number, name: string}|null} [actor] the agent who did it; none for Kefu or the customer
 * @property {{id: number, name: string}|null} [agent] the agent it went to
 * @property {{id: number, name: string}|null} [team] the team it went to
 * @property {Record<string, any>} [details] `reason`, `rules`, `from`/`to`, `skills`, `by`, `summary_id`
 * @property {Summary} [summary] resolved and transferred lines: the summary written then
 * @property {string} created_at
 */

/**
 * What a conversation was about, written when it was resolved or transferred.
 * @typedef {Object} Summary
 * @property {number} id
 * @property {number} conversation_id
 * @property {"resolved"|"transferred"} occasion
 * @property {string} source `extractive`
 * @property {{channel?: string|null, duration_secs?: number|null, intent?: string|null, labels?: string[], open_question?: string|null}} facts
 * @property {{speaker: "customer"|"agent"|"bot", text: string}[]} sentences
 * @property {string} created_at
 */

/**
 * One satisfaction survey (`GET /api/v1/conversations/{id}/csat`).
 * @typedef {Object} Csat
 * @property {number} id
 * @property {number} conversation_id
 * @property {number} inbox_id
 * @property {number} contact_id
 * @property {number|null} [agent_id]
 * @property {number|null} [team_id]
 * @property {string} channel
 * @property {"requested"|"skipped"|"submitted"} status
 * @property {string} [skip_reason]
 * @property {number|null} [rating] 1 to 5
 * @property {string|null} [comment]
 * @property {string} requested_at
 * @property {string|null} [submitted_at]
 */

/**
 * @typedef {Object} Team
 * @property {number} id
 * @property {string} name
 * @property {number[]} [member_ids]
 * @property {number[]} [agent_ids] older servers' name for `member_ids`
 */

/**
 * @typedef {Object} ApiToken
 * @property {number} id
 * @property {string} name
 * @property {number} agent_id
 * @property {string} created_at
 * @property {string|null} [last_used_at]
 * @property {string|null} [expires_at]
 * @property {string[]} [scopes]
 * @property {string} [token] only in the answer that created it
 */

/**
 * @typedef {Object} Inbox
 * @property {number} id
 * @property {string} name
 * @property {{type: string} & Record<string, any>} [channel]
 * @property {{url: string, token?: string}} [callback]
 * @property {string} [website_token]
 */

/**
 * A conversation as the list and thread use it.
 * @typedef {Object} Conversation
 * @property {number|string} id
 * @property {ConversationStatus} [status]
 * @property {number|null} [assignee_id]
 * @property {{id?: number, name?: string}|null} [assignee]
 * @property {number} [inbox_id]
 * @property {number} [priority]
 * @property {any} [skills]
 * @property {{id?: number, name?: string, email?: string, phone?: string}} [contact]
 * @property {number} [contact_id]
 * @property {string} [contact_name]
 * @property {string} [channel_type]
 * @property {{type?: string}} [channel]
 * @property {string} [created_at]
 * @property {string} [last_message_at]
 * @property {number} [team_id]
 * @property {number} [last_seq]
 * @property {{text: string, direction: string, private?: boolean, attachments?: number, created_at?: string}|null} [last_message]
 * @property {string[]} [labels]
 * @property {number} [unread_count]
 * @property {number} [last_read_seq]
 * @property {number|null} [sentiment]
 * @property {string|null} [intent] the intent detected in the first customer message of the current wait
 * @property {string|null} [last_inbound_at]
 * @property {string|null} [waiting_since] the customer's unanswered message, when they wrote last
 */

/**
 * A knowledge-base entry (`GET /api/v1/knowledge`).
 * @typedef {Object} KnowledgeEntry
 * @property {number} id
 * @property {string} question
 * @property {string[]} alternatives
 * @property {string} answer
 * @property {string[]} tags
 * @property {string|null} locale
 * @property {boolean} enabled
 * @property {SavedFile[]} [attachments] files sent with the answer, in order
 */

/**
 * An intent (`GET /api/v1/intents`).
 * @typedef {Object} Intent
 * @property {number} id
 * @property {string} name
 * @property {string} label
 * @property {string[]} examples
 * @property {boolean} enabled
 */

/**
 * A sensitive-word rule (`GET /api/v1/sensitive-rules`).
 * @typedef {Object} SensitiveRule
 * @property {number} id
 * @property {string} name
 * @property {string[]} words
 * @property {"cn_id"|"bank_card"|"mobile"|"email"|null} detector
 * @property {"mask"|"block"|"flag"|"route"} action
 * @property {number|null} team_id
 * @property {boolean} enabled
 */

/**
 * A label (`GET /api/v1/labels`).
 * @typedef {Object} Label
 * @property {number} id
 * @property {string} name
 * @property {string} color `#rrggbb`
 * @property {string} [created_at]
 */

/**
 * Opening intervals per weekday, `[["09:00", "12:00"], ...]` (`GET /api/v1/schedules`).
 * @typedef {Object} Weekly
 * @property {[string, string][]} mon
 * @property {[string, string][]} tue
 * @property {[string, string][]} wed
 * @property {[string, string][]} thu
 * @property {[string, string][]} fri
 * @property {[string, string][]} sat
 * @property {[string, string][]} sun
 */

/**
 * A business-hours schedule (`GET /api/v1/schedules`).
 * @typedef {Object} Schedule
 * @property {number} id
 * @property {string} name
 * @property {string} time_zone IANA zone
 * @property {Weekly} weekly
 * @property {string[]} holidays `YYYY-MM-DD`
 * @property {string[]} extra_workdays `YYYY-MM-DD`, worked with Monday's hours
 */

/**
 * A file a canned response or a knowledge-base answer sends.
 * @typedef {Object} SavedFile
 * @property {number} id
 * @property {string} name
 * @property {string} [mime]
 * @property {number|null} [size]
 * @property {string} [url]
 */

/**
 * A canned response (`GET /api/v1/canned-responses`): what `/shortcut` in the reply box
 * inserts, with `{{variable | fallback}}` placeholders the server fills per conversation.
 * @typedef {Object} CannedResponse
 * @property {number} id
 * @property {string} shortcut stored without the slash, in lower case
 * @property {string} content
 * @property {"personal"|"team"|"global"} scope
 * @property {number|null} [team_id]
 * @property {number|null} [owner_id]
 * @property {boolean} editable whether the signed-in agent may change and delete it
 * @property {SavedFile[]} [attachments] files sent with it, in order
 * @property {string} [created_at]
 * @property {string} [updated_at]
 */

/**
 * The current hash route (see router.js).
 * @typedef {Object} Route
 * @property {"conversations"|"contacts"|"settings"|"invite"|"login"} name
 * @property {Record<string, string>} params e.g. `{id}` of a conversation or contact, `{page}`, `{token}`
 * @property {string[]} rest path segments after the settings page id
 */

export {};
