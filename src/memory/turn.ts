/** A finished exchange, as it is journaled and written to long-term memory. */

export interface Turn {
  /** Unique and stable: used as Letta's `otid` idempotency key, so a resend can be detected. */
  id: string;
  /** Letta agent the turn belongs to. */
  agentId: string;
  /** LiveKit participant identity of the caller. */
  callerIdentity: string;
  /** Session (call) the turn happened in. */
  sessionId: string;
  /** The caller's words (final transcript). */
  user: string;
  /** What the assistant actually said: truncated to what was heard when interrupted. */
  assistant: string;
  interrupted: boolean;
  /** Epoch ms: when the user's message was committed. */
  userAt: number;
  /** Epoch ms: when the assistant's message finished (played out or interrupted). */
  finishedAt: number;
}
