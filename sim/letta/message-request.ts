/**
 * What a message-creating request to the Letta stand-in asks for, read and checked as Letta's
 * server reads it (pydantic's errors, with the union members named as it names them).
 */
import type { MessageType } from '@letta-ai/letta-client/resources/agents/messages';
import type { PydanticError } from './http.ts';
import { missing, valueError } from './http.ts';
import type { MessageCreate } from './store.ts';
import type { Json } from './validate.ts';
import { Checks, literalError, typeError } from './validate.ts';

export const MESSAGE_TYPES: readonly MessageType[] = [
  'system_message',
  'user_message',
  'assistant_message',
  'reasoning_message',
  'hidden_reasoning_message',
  'tool_call_message',
  'tool_return_message',
  'approval_request_message',
  'approval_response_message',
  'summary_message',
  'event_message',
];

/** The server's DEFAULT_MAX_STEPS. */
const DEFAULT_MAX_STEPS = 50;

export interface Turn {
  inputs: MessageCreate[];
  /** Approval / tool-return inputs: nothing is pending in the stand-in, so these are refused. */
  unsupported: boolean;
  includeTypes: MessageType[] | null;
  maxSteps: number;
}

/** How pydantic names the members of LettaRequest's message union in an error's `loc`. */
const MEMBER = {
  message: 'function-after[generate_otid_if_missing(), MessageCreate]',
  approval: 'function-after[migrate_deprecated_fields(), function-after[generate_otid_if_missing(), ApprovalCreate]]',
  toolReturn: 'function-after[generate_otid_if_missing(), ToolReturnCreate]',
};
const CONTENT_LIST =
  'list[tagged-union[TextContent,ImageContent,ToolCallContent,ToolReturnContent,ReasoningContent,RedactedReasoningContent,OmittedReasoningContent,SummarizedReasoningContent]]';

function enumLiteral(loc: (string | number)[], expected: string, input: unknown): PydanticError {
  return { type: 'literal_error', loc, msg: `Input should be ${expected}`, input, ctx: { expected } };
}

/**
 * The errors of a `messages` item that is no valid MessageCreate: pydantic tries each member of the
 * union (after a validator has defaulted `type` to 'message') and reports why each one failed.
 */
function messageItemErrors(raw: unknown, i: number): PydanticError[] {
  const at = (member: string, ...rest: (string | number)[]) => ['body', 'messages', i, member, ...rest];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const msg = 'Input should be a valid dictionary or object to extract fields from';
    return Object.values(MEMBER).map((m) => ({ type: 'model_attributes_type', loc: at(m), msg, input: raw }));
  }
  const m: Json = { ...(raw as Json), type: (raw as Json).type ?? 'message' };
  const own: PydanticError[] = [];
  if (m.role === undefined) own.push(missing(at(MEMBER.message, 'role'), m));
  else if (m.role !== 'user' && m.role !== 'system' && m.role !== 'assistant')
    own.push(
      enumLiteral(
        at(MEMBER.message, 'role'),
        "<MessageRole.user: 'user'>, <MessageRole.system: 'system'> or <MessageRole.assistant: 'assistant'>",
        m.role,
      ),
    );
  if (m.content === undefined) own.push(missing(at(MEMBER.message, 'content'), m));
  else if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
    own.push(
      typeError('string_type', at(MEMBER.message, 'content', 'str'), 'Input should be a valid string', m.content),
    );
    own.push(
      typeError('list_type', at(MEMBER.message, 'content', CONTENT_LIST), 'Input should be a valid list', m.content),
    );
  }
  if (own.length === 0) return [];
  return [
    ...own,
    enumLiteral(at(MEMBER.approval, 'type'), "<MessageCreateType.approval: 'approval'>", m.type),
    enumLiteral(at(MEMBER.toolReturn, 'type'), "<MessageCreateType.tool_return: 'tool_return'>", m.type),
    missing(at(MEMBER.toolReturn, 'tool_returns'), m),
  ];
}

/** LettaRequest's body validation (input XOR messages, message shapes, return types). */
export function parseTurn(c: Checks, b: Json): Turn {
  const hasInput = b.input !== undefined && b.input !== null;
  const hasMessages = b.messages !== undefined && b.messages !== null;
  const turn: Turn = { inputs: [], unsupported: false, includeTypes: null, maxSteps: DEFAULT_MAX_STEPS };
  if (hasInput && hasMessages)
    c.errors.push(valueError(['body'], "Cannot specify both 'input' and 'messages'. Use one or the other.", b));
  else if (!hasInput && !hasMessages)
    c.errors.push(valueError(['body'], "Must specify either 'input' or 'messages'.", b));
  else if (hasInput) {
    if (typeof b.input === 'string' || Array.isArray(b.input))
      turn.inputs.push({ role: 'user', content: b.input as MessageCreate['content'] });
    else
      c.errors.push({
        type: 'string_type',
        loc: ['body', 'input'],
        msg: 'Input should be a valid string',
        input: b.input,
      });
  } else if (!Array.isArray(b.messages)) {
    c.errors.push({
      type: 'list_type',
      loc: ['body', 'messages'],
      msg: 'Input should be a valid list',
      input: b.messages,
    });
  } else {
    b.messages.forEach((raw: unknown, i) => {
      const m = typeof raw === 'object' && raw !== null ? (raw as Json) : {};
      const type =
        m.type ??
        ('approval_request_id' in m || 'approve' in m || 'approvals' in m
          ? 'approval'
          : 'tool_returns' in m
            ? 'tool_return'
            : 'message');
      if (type !== 'message') {
        turn.unsupported = true;
        return;
      }
      c.errors.push(...messageItemErrors(raw, i));
      turn.inputs.push(m as unknown as MessageCreate);
    });
  }
  const types = b.include_return_message_types;
  if (Array.isArray(types)) {
    types.forEach((t: unknown, i) => {
      if (!MESSAGE_TYPES.includes(t as MessageType))
        c.errors.push(literalError(['body', 'include_return_message_types', i], MESSAGE_TYPES, t));
    });
    turn.includeTypes = types.filter((t): t is MessageType => MESSAGE_TYPES.includes(t as MessageType));
  }
  if (b.max_steps !== undefined && !Number.isInteger(b.max_steps)) {
    c.errors.push({
      type: 'int_type',
      loc: ['body', 'max_steps'],
      msg: 'Input should be a valid integer',
      input: b.max_steps,
    });
  } else if (typeof b.max_steps === 'number') turn.maxSteps = Math.max(1, b.max_steps);
  return turn;
}

/** A message this request sent, as the server persists it (its `otid` is the client's). */
